-- Every message of the conversations of select_resolved_conversations, in one query.
SELECT id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id,
    sent_at
FROM messages
WHERE conversation_id IN (SELECT id FROM conversations WHERE resolution = 'resolved'
    AND closed_at IS NOT NULL ORDER BY closed_at DESC, id LIMIT ?1)
ORDER BY seq
