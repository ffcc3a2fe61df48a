-- The stored answer to a provider's webhook event.
SELECT request_hash, response FROM webhook_receipts WHERE channel = ?1 AND event_id = ?2
