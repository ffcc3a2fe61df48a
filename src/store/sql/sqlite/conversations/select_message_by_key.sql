-- The message stored under (channel, external_id), the dedup key.
SELECT id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id,
    sent_at
FROM messages
WHERE channel = ?1 AND external_id = ?2
