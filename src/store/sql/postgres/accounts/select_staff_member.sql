-- One staff account, active or not.
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity, active, extension, revision
FROM agents
WHERE id = $1
