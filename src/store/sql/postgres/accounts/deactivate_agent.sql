-- Deactivates an active account, moving its revision on.
UPDATE agents SET active = FALSE, revision = revision + 1 WHERE id = $1 AND active
