-- Merge: moves the merged customer's conversations.
UPDATE conversations SET customer_id = ?1 WHERE customer_id = ?2
