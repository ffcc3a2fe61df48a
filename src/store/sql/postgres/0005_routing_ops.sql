-- Switchboard schema v5 (PostgreSQL): the same logical schema as sql/sqlite/0005_routing_ops.sql.
-- Routing operations: tasks remember the agent offered first (sticky routing), the queue they
-- were routed to, how they ended (expired tasks: the fallback they went to) and when. Agents'
-- presence changes and supervisors' temporary overrides are recorded, so a rule set can be
-- replayed against real traffic (dry-run).

ALTER TABLE tasks ADD COLUMN preferred_agent TEXT;
ALTER TABLE tasks ADD COLUMN queue TEXT;
ALTER TABLE tasks ADD COLUMN fallback TEXT;
ALTER TABLE tasks ADD COLUMN finished_at TIMESTAMPTZ;
-- The traffic of a time window (tasks_status leads with status, so it does not cover this).
CREATE INDEX tasks_created ON tasks(created_at);
-- The agent who last served a customer.
CREATE INDEX tasks_customer_assigned ON tasks(customer_id, assigned_at);

CREATE TABLE agent_presence (
    id        BIGSERIAL PRIMARY KEY,
    agent_id  TEXT NOT NULL,
    status    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX agent_presence_at ON agent_presence(at);
CREATE INDEX agent_presence_agent ON agent_presence(agent_id, at);

CREATE TABLE routing_overrides (
    id          TEXT PRIMARY KEY,
    rule        TEXT NOT NULL,
    -- An OverrideTarget as JSON.
    target      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    ended_by    TEXT
);
CREATE INDEX routing_overrides_expires ON routing_overrides(expires_at);
