-- The waiting or assigned task of a conversation.
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context
FROM tasks
WHERE conversation_id = ?1 AND status IN ('waiting', 'assigned')
