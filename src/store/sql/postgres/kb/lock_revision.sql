-- Locks the revision row: writers of the knowledge base go one at a time.
SELECT revision FROM kb_revision WHERE id = 1 FOR UPDATE
