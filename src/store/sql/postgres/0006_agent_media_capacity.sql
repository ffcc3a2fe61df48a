-- Switchboard schema v6 (PostgreSQL): capacity per media per agent. NULL: the deployment's
-- routing.voice_capacity / routing.ticket_capacity.
ALTER TABLE agents ADD COLUMN voice_capacity INTEGER CHECK (voice_capacity >= 0);
ALTER TABLE agents ADD COLUMN ticket_capacity INTEGER CHECK (ticket_capacity >= 0);
