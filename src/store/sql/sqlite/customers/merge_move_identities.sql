-- Merge: moves the merged customer's identities.
UPDATE identities SET customer_id = ?1 WHERE customer_id = ?2
