-- Stores the answer to a provider's webhook event; the first one stays.
INSERT INTO webhook_receipts (channel, event_id, request_hash, response, received_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (channel, event_id) DO NOTHING
