-- Switchboard schema v3 (SQLite): supervisors' routing rule sets and the audit log.
-- A rule set version is immutable once stored; one row says which version is active.
-- Creating and activating a version are audited in the same transaction.

CREATE TABLE routing_rule_sets (
    version     INTEGER PRIMARY KEY AUTOINCREMENT,
    document    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE routing_active (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    version       INTEGER NOT NULL REFERENCES routing_rule_sets(version),
    activated_by  TEXT NOT NULL,
    activated_at  TEXT NOT NULL
);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log(subject, id);
