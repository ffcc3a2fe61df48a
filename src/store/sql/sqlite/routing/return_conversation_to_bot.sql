-- After a queue exit the task's conversation goes back to the bot, unless it was closed.
UPDATE conversations
SET status = 'bot', agent_id = NULL
WHERE id = (SELECT conversation_id FROM tasks WHERE id = ?1) AND status <> 'closed'
