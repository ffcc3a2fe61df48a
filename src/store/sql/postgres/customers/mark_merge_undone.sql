-- Records who undid a merge, and when.
UPDATE customer_merges SET undone_by = $2, undone_at = $3 WHERE id = $1
