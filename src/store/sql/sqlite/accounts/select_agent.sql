-- An account by id.
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity
FROM agents
WHERE id = ?1
