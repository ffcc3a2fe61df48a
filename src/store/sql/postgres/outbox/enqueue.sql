-- Adds a pending delivery, due at its time; an existing id is left as it is.
INSERT INTO outbox (id, channel, payload, status, attempts, due_at, created_at)
VALUES ($1, $2, $3, 'pending', 0, $4, $5)
ON CONFLICT (id) DO NOTHING
