-- Overrides in force at a time (not ended, not expired), oldest first.
SELECT id, rule, target, reason, created_by, created_at, expires_at, ended_at
FROM routing_overrides
WHERE ended_at IS NULL AND expires_at > $1
ORDER BY created_at, id
