-- Rows whose queue message seems lost (pending and overdue, or sending past the lease, which counts
-- as an attempt) become pending and due now, in one statement.
UPDATE outbox
SET attempts = attempts + CASE WHEN status = 'sending' THEN 1 ELSE 0 END, status = 'pending',
    due_at = ?2, lease_until = NULL
WHERE id IN (SELECT id FROM outbox WHERE (status = 'pending' AND due_at < ?1) OR (status = 'sending'
    AND lease_until < ?1) ORDER BY due_at LIMIT ?3)
RETURNING id, channel, payload, status, attempts, due_at, last_error, created_at, provider_ref,
    provider_status
