-- Undo: moves the recorded tasks back, those still with the customer they were merged into.
UPDATE tasks SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3
