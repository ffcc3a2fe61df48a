-- An outbox row by id.
SELECT id, channel, payload, status, attempts, due_at, last_error, created_at, provider_ref,
    provider_status
FROM outbox
WHERE id = $1
