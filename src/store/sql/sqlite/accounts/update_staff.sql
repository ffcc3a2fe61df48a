-- Writes an account if it is still at the revision read (optimistic concurrency), moving the
-- revision on; an empty password hash keeps the stored password. Returns the new revision.
UPDATE agents
SET username = ?2, display_name = ?3, role = ?4, skills = ?5, languages = ?6, capacity = ?7,
    voice_capacity = ?8, ticket_capacity = ?9, extension = ?10,
    password_hash = CASE WHEN ?11 = '' THEN password_hash ELSE ?11 END,
    revision = revision + 1
WHERE id = ?1 AND revision = ?12
RETURNING revision
