-- Merge: moves the merged customer's identities and returns them (recorded for an undo).
UPDATE identities SET customer_id = $1 WHERE customer_id = $2 RETURNING channel, external_id
