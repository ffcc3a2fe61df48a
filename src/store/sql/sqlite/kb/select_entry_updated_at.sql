-- When an entry was last saved (the precondition of a conditional write).
SELECT updated_at FROM kb_entries WHERE id = ?1
