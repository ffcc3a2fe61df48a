-- A task by id.
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer
FROM tasks
WHERE id = ?1
