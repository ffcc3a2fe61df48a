-- Creates a team (a taken name, whatever its case, is a unique violation).
INSERT INTO teams (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)
