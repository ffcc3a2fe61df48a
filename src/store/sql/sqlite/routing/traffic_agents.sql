-- Dry-run traffic: every active account with the agent role, as it is now.
SELECT id, username, display_name, role, skills, languages, capacity, password_hash, voice_capacity,
    ticket_capacity
FROM agents
WHERE role = ?1 AND active
ORDER BY username
