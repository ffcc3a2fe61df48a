-- Merge: the tasks that move, to record them for an undo.
SELECT id FROM tasks WHERE customer_id = ?1
