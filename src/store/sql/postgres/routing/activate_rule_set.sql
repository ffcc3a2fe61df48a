-- Puts a version in force (the single pointer row).
INSERT INTO routing_active (id, version, activated_by, activated_at)
VALUES (1, $1, $2, $3)
ON CONFLICT (id) DO UPDATE SET version = excluded.version, activated_by = excluded.activated_by,
    activated_at = excluded.activated_at
