-- The conversation's hand-off task, waiting or assigned (not a pending transfer).
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer
FROM tasks
WHERE conversation_id = ?1 AND (status = 'assigned' OR (status = 'waiting' AND transfer IS NULL))
