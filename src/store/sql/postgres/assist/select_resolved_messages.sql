-- Every message of the given conversations (select_resolved_conversations), in one query.
SELECT id, conversation_id, customer_id, channel, sender, body, client_id, external_id, agent_id,
    sent_at
FROM messages
WHERE conversation_id = ANY($1)
ORDER BY seq
