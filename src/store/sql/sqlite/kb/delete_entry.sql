-- Deletes a knowledge-base entry.
DELETE FROM kb_entries WHERE id = ?1
