-- A recorded merge, locked until the undo commits.
SELECT into_customer, from_customer, moved, merged_by, merged_at, undone_at
FROM customer_merges
WHERE id = $1 FOR UPDATE
