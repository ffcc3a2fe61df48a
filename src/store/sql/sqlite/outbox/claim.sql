-- Claims a delivery until the lease ends: a pending row that is due, or a sending row whose
-- worker's lease ran out.
UPDATE outbox
SET status = 'sending', lease_until = ?4
WHERE id = ?1 AND ((status = 'pending' AND due_at <= ?3) OR (status = 'sending'
    AND lease_until < ?2))
