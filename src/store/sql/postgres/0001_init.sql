-- Switchboard schema v1 (PostgreSQL): the same logical schema as sql/sqlite/0001_init.sql.

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    tier          TEXT NOT NULL DEFAULT 'standard',
    tags          TEXT NOT NULL DEFAULT '[]',
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE identities (
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX identities_customer ON identities(customer_id);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    skills         TEXT NOT NULL DEFAULT '[]',
    languages      TEXT NOT NULL DEFAULT '[]',
    capacity       INTEGER NOT NULL,
    password_hash  TEXT NOT NULL
);

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    status        TEXT NOT NULL,
    last_channel  TEXT NOT NULL,
    agent_id      TEXT REFERENCES agents(id),
    bot_state     TEXT NOT NULL DEFAULT '{}',
    opened_at     TIMESTAMPTZ NOT NULL,
    closed_at     TIMESTAMPTZ,
    resolution    TEXT
);
CREATE INDEX conversations_customer ON conversations(customer_id, opened_at);
CREATE INDEX conversations_agent ON conversations(agent_id, status);
CREATE UNIQUE INDEX conversations_one_open ON conversations(customer_id) WHERE status <> 'closed';

CREATE TABLE messages (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    channel          TEXT NOT NULL,
    sender           TEXT NOT NULL,
    body             TEXT NOT NULL,
    client_id        TEXT,
    external_id      TEXT,
    agent_id         TEXT,
    sent_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX messages_conversation ON messages(conversation_id, seq);
CREATE INDEX messages_customer ON messages(customer_id, seq);

CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    channel          TEXT NOT NULL,
    language         TEXT NOT NULL,
    required_skills  TEXT NOT NULL DEFAULT '[]',
    priority         INTEGER NOT NULL,
    intent           TEXT,
    summary          TEXT NOT NULL,
    status           TEXT NOT NULL,
    agent_id         TEXT REFERENCES agents(id),
    created_at       TIMESTAMPTZ NOT NULL,
    assigned_at      TIMESTAMPTZ
);
CREATE INDEX tasks_status ON tasks(status, created_at);
CREATE UNIQUE INDEX tasks_one_open ON tasks(conversation_id) WHERE status IN ('waiting', 'assigned');

CREATE TABLE tokens (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    role         TEXT,
    expires_at   TIMESTAMPTZ NOT NULL
);
