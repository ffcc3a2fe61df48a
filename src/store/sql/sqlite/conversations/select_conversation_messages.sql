-- A conversation's messages, oldest first (seq: insertion order).
SELECT id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id,
    sent_at
FROM messages
WHERE conversation_id = ?1
ORDER BY seq
