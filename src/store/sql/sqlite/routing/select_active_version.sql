-- The version in force, before an activation replaces it.
SELECT version FROM routing_active WHERE id = 1
