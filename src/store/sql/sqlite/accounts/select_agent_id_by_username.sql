-- The id of the account with this username (after an upsert, which keeps the first id).
SELECT id FROM agents WHERE username = ?1
