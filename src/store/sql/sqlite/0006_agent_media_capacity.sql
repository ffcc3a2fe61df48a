-- Switchboard schema v6 (SQLite): capacity per media per agent. NULL: the deployment's
-- routing.voice_capacity / routing.ticket_capacity.
ALTER TABLE agents ADD COLUMN voice_capacity INTEGER;
ALTER TABLE agents ADD COLUMN ticket_capacity INTEGER;
