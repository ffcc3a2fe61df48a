-- Stores a task unless its conversation has an open one, or a pending transfer for a transfer
-- (0 rows: the caller reads that one).
INSERT INTO tasks (id, conversation_id, customer_id, channel, language, required_skills, priority,
    intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT DO NOTHING
