-- Merge: moves the merged customer's conversations and returns their ids (recorded for an undo).
UPDATE conversations SET customer_id = $1 WHERE customer_id = $2 RETURNING id
