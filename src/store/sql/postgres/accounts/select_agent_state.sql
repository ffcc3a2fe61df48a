-- Whether an account is active, and its revision; locks its row for the transaction's write.
SELECT active, revision FROM agents WHERE id = $1 FOR UPDATE
