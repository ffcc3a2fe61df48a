-- Stores a task; a second open task of a conversation is a unique violation (the caller answers
-- with the open one).
INSERT INTO tasks (id, conversation_id, customer_id, channel, language, required_skills, priority,
    intent, summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
