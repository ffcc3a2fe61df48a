-- Stores the hash of a bearer token and who holds it.
INSERT INTO tokens (token_hash, kind, subject, role, expires_at) VALUES ($1, $2, $3, $4, $5)
