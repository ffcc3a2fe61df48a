-- Switchboard schema v2 (SQLite): the transactional outbox of provider deliveries.
-- A row is written in the same transaction as the message it delivers; the delivery workers
-- claim it (lease), call the provider and settle it; the relay republishes rows whose queue
-- message was lost (a publish never confirmed, a broker or node failure).

CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    due_at       TEXT NOT NULL,
    lease_until  TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    settled_at   TEXT
);
CREATE INDEX outbox_due ON outbox(status, due_at);
