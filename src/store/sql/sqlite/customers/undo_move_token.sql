-- Undo: moves one visitor token back, if it is still with the customer it was merged into.
UPDATE tokens SET subject = ?1 WHERE token_hash = ?2 AND subject = ?3
