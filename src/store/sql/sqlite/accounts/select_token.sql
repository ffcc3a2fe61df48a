-- Who holds a token, if it has not expired.
SELECT kind, subject, role FROM tokens WHERE token_hash = ?1 AND expires_at > ?2
