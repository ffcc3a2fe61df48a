-- Stores a supervisor's override of one rule's target.
INSERT INTO routing_overrides (id, rule, target, reason, created_by, created_at, expires_at,
    ended_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
