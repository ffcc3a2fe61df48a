-- The acceptance of transfer $1 ends the task its conversation was assigned by (the sender's)
-- as 'transferred' at $2, before the transfer itself is assigned.
UPDATE tasks SET status = 'transferred', finished_at = $2
WHERE status = 'assigned' AND id <> $1
    AND conversation_id = (SELECT conversation_id FROM tasks
        WHERE id = $1 AND status = 'waiting' AND transfer IS NOT NULL)
