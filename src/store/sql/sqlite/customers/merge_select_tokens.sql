-- Merge: the visitor tokens that move, to record them for an undo.
SELECT token_hash FROM tokens WHERE kind = 'customer' AND subject = ?1
