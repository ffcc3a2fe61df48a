-- Switchboard schema v7 (SQLite): provider channels (issue 6).

-- What the provider calls a delivered message (Twilio's MessageSid, WeChat's msgid), and the
-- last delivery status it reported for it (queued, sent, delivered, failed, undelivered...).
ALTER TABLE outbox ADD COLUMN provider_ref TEXT;
ALTER TABLE outbox ADD COLUMN provider_status TEXT;
ALTER TABLE outbox ADD COLUMN provider_status_at TEXT;
CREATE UNIQUE INDEX outbox_provider_ref ON outbox(channel, provider_ref) WHERE provider_ref IS NOT NULL;

-- Opt-outs (SMS "STOP"/"退订", WeChat unsubscribe): nothing but a reply to the opt-out itself is
-- sent to an opted-out address until it opts in again.
CREATE TABLE opt_outs (
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    keyword       TEXT NOT NULL,
    opted_out_at  TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);

-- Provider webhooks that are answered with something other than a stored message (IVR
-- instructions, status callbacks, WeChat events): the first answer, so a provider's retry gets
-- the same answer and changes nothing. `request_hash` tells a retry from a replayed id.
CREATE TABLE webhook_receipts (
    channel       TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response      TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (channel, event_id)
);

-- Merges of two customers by an agent (audited, reversible): what moved, to move it back.
CREATE TABLE customer_merges (
    id            TEXT PRIMARY KEY,
    into_customer TEXT NOT NULL REFERENCES customers(id),
    from_customer TEXT NOT NULL REFERENCES customers(id),
    moved         TEXT NOT NULL,
    merged_by     TEXT NOT NULL,
    merged_at     TEXT NOT NULL,
    undone_by     TEXT,
    undone_at     TEXT
);
