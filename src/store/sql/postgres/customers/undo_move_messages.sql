-- Undo: moves the recorded messages back, those still with the customer they were merged into.
UPDATE messages SET customer_id = $1 WHERE id = ANY($2) AND customer_id = $3
