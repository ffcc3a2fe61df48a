-- Assigns a task to an agent, only while it is waiting (a task is never assigned twice) and the
-- agent is an active account with the agent role.
UPDATE tasks
SET status = 'assigned', agent_id = ?2, assigned_at = ?3
WHERE id = ?1 AND status = 'waiting'
    AND EXISTS (SELECT 1 FROM agents WHERE id = ?2 AND role = 'agent' AND active)
