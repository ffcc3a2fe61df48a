-- Merge: moves the merged customer's messages and returns their ids (recorded for an undo).
UPDATE messages SET customer_id = $1 WHERE customer_id = $2 RETURNING id
