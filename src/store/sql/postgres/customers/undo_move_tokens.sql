-- Undo: moves the recorded visitor tokens back, those still with the customer they were merged
-- into.
UPDATE tokens SET subject = $1 WHERE token_hash = ANY($2) AND subject = $3
