-- Ends an attempt (counting it), only while the claim made with this lease still holds (the lease
-- is the fencing token).
UPDATE outbox
SET status = ?2, attempts = attempts + 1, last_error = COALESCE(?3, last_error), due_at = ?4,
    lease_until = NULL, settled_at = ?5, provider_ref = COALESCE(?7, provider_ref)
WHERE id = ?1 AND status = 'sending' AND lease_until = ?6
