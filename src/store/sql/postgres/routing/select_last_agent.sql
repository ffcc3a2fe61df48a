-- The agent of a customer's most recently assigned task.
SELECT agent_id
FROM tasks
WHERE customer_id = $1 AND agent_id IS NOT NULL AND assigned_at IS NOT NULL
ORDER BY assigned_at DESC, id DESC
LIMIT 1
