-- An active account by id (a deactivated one is not found: it no longer works).
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity
FROM agents
WHERE id = $1 AND active
