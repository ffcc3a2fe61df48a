-- The tasks an agent holds (assigned to them), oldest assignment first.
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer
FROM tasks
WHERE agent_id = ?1 AND status = 'assigned'
ORDER BY assigned_at, id
