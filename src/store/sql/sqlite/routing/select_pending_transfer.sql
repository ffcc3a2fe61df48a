-- The transfer of a conversation that waits for an agent, if any.
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer
FROM tasks
WHERE conversation_id = ?1 AND status = 'waiting' AND transfer IS NOT NULL
