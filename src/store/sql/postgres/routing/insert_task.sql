-- Stores a task unless its conversation has an open one (0 rows: the caller reads the open one).
INSERT INTO tasks (id, conversation_id, customer_id, channel, language, required_skills, priority,
    intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (conversation_id) WHERE status IN ('waiting', 'assigned') DO NOTHING
