-- Switchboard schema v10 (PostgreSQL): staff accounts administered through the API. An account
-- can be deactivated (it keeps its history but can no longer sign in), has an optional phone
-- extension and a revision that moves with every change (optimistic concurrency); teams have
-- leads and members; app tokens (never stored) can be revoked before they expire.

ALTER TABLE agents ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN extension TEXT;
ALTER TABLE agents ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
-- A username is taken whatever its case: "Alice" is not a second "alice".
CREATE UNIQUE INDEX agents_username_folded ON agents(lower(username));

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX teams_name_folded ON teams(lower(name));

-- Who is in which team, and how: a lead supervises the team's members.
CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams(id),
    agent_id  TEXT NOT NULL REFERENCES agents(id),
    role      TEXT NOT NULL CHECK (role IN ('lead', 'member')),
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members(agent_id);

-- An account's tokens are revoked together (deactivation, role change, password reset).
CREATE INDEX tokens_subject ON tokens(subject, kind);

-- App tokens (the app backend's JWTs) signed out before they expire.
CREATE TABLE revoked_app_tokens (
    token_hash  TEXT PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);
