-- Switchboard schema v9 (postgres): the knowledge-base bot, flows, hand-off context and agent assist
-- (issue 7).

-- The context an agent sees with a hand-off (intent, confidence, slots, summary, transcript,
-- tier, tags): JSON, written with the task.
ALTER TABLE tasks ADD COLUMN context TEXT;

-- Knowledge-base entries as JSON documents (schema in src/kb/entry.rs), edited by supervisors.
CREATE TABLE kb_entries (
    id          TEXT PRIMARY KEY,
    document    TEXT NOT NULL,
    status      TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL
);

-- One row: bumped by every change of kb_entries, so every node reloads its bot when it moves;
-- with the questions the knowledge base is not for (JSON array: the matcher's out-of-scope
-- examples besides the built-in ones).
CREATE TABLE kb_revision (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    out_of_scope  TEXT NOT NULL DEFAULT '[]',
    revision  BIGINT NOT NULL
);
INSERT INTO kb_revision (id, revision) VALUES (1, 0);

-- Tickets (work orders) opened by flows; `source_key` makes a retried turn open no second one.
CREATE TABLE tickets (
    id               TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    conversation_id  TEXT REFERENCES conversations(id),
    kind             TEXT NOT NULL,
    subject          TEXT NOT NULL,
    fields           TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL,
    source_key       TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX tickets_customer ON tickets(customer_id, created_at);

-- Agent-assist suggestions shown on a desk, and whether the agent used them.
CREATE TABLE assist_suggestions (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    message_id       TEXT NOT NULL,
    agent_id         TEXT NOT NULL REFERENCES agents(id),
    kind             TEXT NOT NULL,
    reference        TEXT NOT NULL,
    rank             INTEGER NOT NULL,
    score            REAL NOT NULL,
    shown_at         TIMESTAMPTZ NOT NULL,
    used_at          TIMESTAMPTZ
);
CREATE INDEX assist_conversation ON assist_suggestions(conversation_id, shown_at);
