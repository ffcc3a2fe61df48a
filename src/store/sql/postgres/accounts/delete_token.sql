-- Deletes one token (a sign-out); returns who held it.
DELETE FROM tokens WHERE token_hash = $1 RETURNING kind, subject, role
