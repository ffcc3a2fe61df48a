-- Merge: moves the merged customer's tasks and returns their ids (recorded for an undo).
UPDATE tasks SET customer_id = $1 WHERE customer_id = $2 RETURNING id
