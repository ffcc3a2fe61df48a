-- Assigns a task to an agent, only while it is waiting (a task is never assigned twice).
UPDATE tasks
SET status = 'assigned', agent_id = ?2, assigned_at = ?3
WHERE id = ?1 AND status = 'waiting'
