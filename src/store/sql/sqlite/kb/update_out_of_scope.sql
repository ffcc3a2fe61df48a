-- Replaces the knowledge base's out-of-scope questions (JSON list).
UPDATE kb_revision SET out_of_scope = ?1 WHERE id = 1
