-- The knowledge base's revision.
SELECT revision FROM kb_revision WHERE id = 1
