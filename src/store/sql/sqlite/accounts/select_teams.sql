-- Every team, by name.
SELECT id, name, created_by, created_at FROM teams ORDER BY lower(name), id
