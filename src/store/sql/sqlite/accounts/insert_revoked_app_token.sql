-- Records a signed-out app token until it expires (a repeat changes nothing).
INSERT INTO revoked_app_tokens (token_hash, expires_at) VALUES (?1, ?2)
ON CONFLICT (token_hash) DO NOTHING
