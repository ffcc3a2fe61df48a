-- A customer's tickets, oldest first.
SELECT id, customer_id, conversation_id, kind, subject, fields, status, source_key, created_at
FROM tickets
WHERE customer_id = $1
ORDER BY created_at, id
