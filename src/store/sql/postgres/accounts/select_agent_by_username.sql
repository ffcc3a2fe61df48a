-- An active account by login name (a deactivated one is not found: it cannot sign in).
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity
FROM agents
WHERE username = $1 AND active
