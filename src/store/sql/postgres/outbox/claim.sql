-- Claims a delivery until the lease ends: a pending row that is due, or a sending row whose
-- worker's lease ran out. Returns the claimed row.
UPDATE outbox
SET status = 'sending', lease_until = $4
WHERE id = $1 AND ((status = 'pending' AND due_at <= $3) OR (status = 'sending'
    AND lease_until < $2))
RETURNING id, channel, payload, status, attempts, due_at, last_error, created_at, provider_ref,
    provider_status
