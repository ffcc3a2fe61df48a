-- Stores a new customer.
INSERT INTO customers (id, display_name, tier, tags, created_at) VALUES ($1, $2, $3, $4, $5)
