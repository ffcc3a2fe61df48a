-- Merge: moves the merged customer's messages.
UPDATE messages SET customer_id = ?1 WHERE customer_id = ?2
