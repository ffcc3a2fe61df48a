-- Tasks still waiting for an agent, oldest first (the dispatcher rebuilds from these).
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer
FROM tasks
WHERE status = 'waiting'
ORDER BY created_at, id
