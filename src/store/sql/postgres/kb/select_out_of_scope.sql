-- The knowledge base's out-of-scope questions (JSON list).
SELECT out_of_scope FROM kb_revision WHERE id = 1
