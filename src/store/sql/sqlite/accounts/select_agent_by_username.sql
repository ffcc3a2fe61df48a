-- An account by login name.
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity
FROM agents
WHERE username = ?1
