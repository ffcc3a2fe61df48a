-- Every knowledge-base entry, by id.
SELECT id, document, status, updated_at, updated_by FROM kb_entries ORDER BY id
