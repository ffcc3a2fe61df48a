-- Ends an override early, if it is neither ended nor expired; returns its rule (audited).
UPDATE routing_overrides
SET ended_at = $2, ended_by = $3
WHERE id = $1 AND ended_at IS NULL AND expires_at > $2
RETURNING rule
