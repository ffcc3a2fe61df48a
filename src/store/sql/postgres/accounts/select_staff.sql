-- Every staff account, active or not, by username.
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity, active, extension, revision
FROM agents
ORDER BY username
