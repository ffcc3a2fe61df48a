-- Merge: the messages that move, to record them for an undo.
SELECT id FROM messages WHERE customer_id = ?1
