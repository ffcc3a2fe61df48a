-- The suggestions shown in a conversation, oldest first.
SELECT id, conversation_id, message_id, agent_id, kind, reference, rank, score, shown_at, used_at
FROM assist_suggestions
WHERE conversation_id = ?1
ORDER BY shown_at, rank, id
