-- The id of every entry (a full import deletes those it does not keep).
SELECT id FROM kb_entries
