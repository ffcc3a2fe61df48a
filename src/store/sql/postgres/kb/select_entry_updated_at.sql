-- When an entry was last saved (the precondition of a conditional write), locking the entry.
SELECT updated_at FROM kb_entries WHERE id = $1 FOR UPDATE
