-- Merge: how many of the two customers exist (both must).
SELECT COUNT(*) FROM customers WHERE id IN (?1, ?2)
