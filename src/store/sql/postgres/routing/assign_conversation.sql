-- An assignment gives the task's conversation to the agent, unless it was closed.
UPDATE conversations
SET status = 'assigned', agent_id = $2
WHERE id = (SELECT conversation_id FROM tasks WHERE id = $1) AND status <> 'closed'
