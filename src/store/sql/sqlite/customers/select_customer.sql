-- A customer by id.
SELECT id, display_name, tier, tags, created_at FROM customers WHERE id = ?1
