-- Whether an app token was signed out and has not expired yet.
SELECT 1 AS revoked FROM revoked_app_tokens WHERE token_hash = $1 AND expires_at > $2
