-- Every identity of a customer, oldest first.
SELECT channel, external_id, created_at
FROM identities
WHERE customer_id = ?1
ORDER BY created_at, channel
