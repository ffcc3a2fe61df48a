-- One knowledge-base entry.
SELECT id, document, status, updated_at, updated_by FROM kb_entries WHERE id = $1
