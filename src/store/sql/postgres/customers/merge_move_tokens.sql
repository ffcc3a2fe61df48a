-- Merge: moves the merged customer's visitor tokens and returns their hashes (recorded for an
-- undo).
UPDATE tokens SET subject = $1 WHERE kind = 'customer' AND subject = $2 RETURNING token_hash AS id
