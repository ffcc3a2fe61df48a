-- Creates an active account at revision 1 (a taken username, whatever its case, is a unique
-- violation).
INSERT INTO agents (id, username, display_name, role, skills, languages, capacity, password_hash,
    voice_capacity, ticket_capacity, extension, active, revision)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, TRUE, 1)
