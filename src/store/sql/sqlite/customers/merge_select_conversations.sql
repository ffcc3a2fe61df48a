-- Merge: the conversations that move, to record them for an undo.
SELECT id FROM conversations WHERE customer_id = ?1
