-- Every message of a customer across channels and conversations, oldest first.
SELECT id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id,
    sent_at
FROM messages
WHERE customer_id = $1
ORDER BY seq
