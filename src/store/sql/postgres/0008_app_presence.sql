-- Switchboard schema v8 (postgres): open app connections, so a message for an app user goes over
-- their WebSocket when one is open (on any node) and as a push notification otherwise. A
-- connection refreshes its row while open; rows of a crashed node simply stop being fresh.
CREATE TABLE app_presence (
    connection_id  TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    seen_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX app_presence_customer ON app_presence(customer_id, seen_at);
