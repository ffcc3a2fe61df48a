-- Forgets signed-out app tokens that have expired anyway.
DELETE FROM revoked_app_tokens WHERE expires_at <= ?1
