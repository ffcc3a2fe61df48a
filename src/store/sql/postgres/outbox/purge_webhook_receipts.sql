-- Deletes the webhook receipts received before a time.
DELETE FROM webhook_receipts WHERE received_at < $1
