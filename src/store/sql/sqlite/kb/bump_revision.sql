-- Moves the knowledge base's revision on.
UPDATE kb_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision
