-- The ticket opened for a source_key.
SELECT id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at
FROM tickets
WHERE source_key = ?1
