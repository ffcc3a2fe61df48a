-- Merge: moves the merged customer's tasks.
UPDATE tasks SET customer_id = ?1 WHERE customer_id = ?2
