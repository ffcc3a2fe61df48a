-- Merge: moves the merged customer's visitor tokens.
UPDATE tokens SET subject = ?1 WHERE kind = 'customer' AND subject = ?2
