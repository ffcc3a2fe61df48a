-- Undo: moves one identity back, if it is still with the customer it was merged into.
UPDATE identities SET customer_id = $1 WHERE channel = $2 AND external_id = $3 AND customer_id = $4
