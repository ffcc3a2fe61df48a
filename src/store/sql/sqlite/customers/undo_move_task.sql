-- Undo: moves one task back, if it is still with the customer it was merged into.
UPDATE tasks SET customer_id = ?1 WHERE id = ?2 AND customer_id = ?3
