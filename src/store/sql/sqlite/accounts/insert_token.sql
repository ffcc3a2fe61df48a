-- Stores the hash of a bearer token and who holds it; a staff token only while its account is
-- active and has the token's role (a login racing a deactivation or role change stores nothing).
INSERT INTO tokens (token_hash, kind, subject, role, expires_at)
SELECT ?1, ?2, ?3, ?4, ?5
WHERE ?2 <> 'staff' OR EXISTS (SELECT 1 FROM agents WHERE id = ?3 AND role = ?4 AND active)
