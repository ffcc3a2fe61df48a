-- Inserts an account, or updates the one with the same username: its id stays, and an empty
-- password_hash keeps the stored password.
INSERT INTO agents (id, username, display_name, role, skills, languages, capacity, password_hash,
    voice_capacity, ticket_capacity)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
  skills = excluded.skills, languages = excluded.languages, capacity = excluded.capacity,
  voice_capacity = excluded.voice_capacity, ticket_capacity = excluded.ticket_capacity,
  password_hash = CASE WHEN excluded.password_hash = '' THEN agents.password_hash
    ELSE excluded.password_hash END
