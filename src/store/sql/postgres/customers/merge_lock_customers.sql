-- Merge: locks both customers, in id order (no deadlock between opposite merges).
SELECT id FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE
