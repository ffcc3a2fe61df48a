-- The last recorded explanation of a task's routing.
SELECT routing FROM tasks WHERE id = $1
