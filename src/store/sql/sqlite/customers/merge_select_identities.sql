-- Merge: the identities that move, to record them for an undo.
SELECT channel, external_id FROM identities WHERE customer_id = ?1
