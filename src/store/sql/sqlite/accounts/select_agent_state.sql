-- Whether an account is active, and its revision.
SELECT active, revision FROM agents WHERE id = ?1
