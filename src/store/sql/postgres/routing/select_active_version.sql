-- The version in force, before an activation replaces it; locks the pointer row, so concurrent
-- activations apply one after the other.
SELECT version FROM routing_active WHERE id = 1 FOR UPDATE
