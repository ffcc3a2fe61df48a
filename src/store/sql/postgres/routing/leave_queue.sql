-- A waiting task leaves the queue without an agent: expired (with its fallback and queue) or
-- cancelled.
UPDATE tasks
SET status = $2, queue = COALESCE($3, queue), fallback = $4, finished_at = $5
WHERE id = $1 AND status = 'waiting'
