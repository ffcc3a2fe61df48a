-- Merge: how many of the two customers have an open conversation (at most one may).
SELECT COUNT(DISTINCT customer_id) AS n
FROM conversations
WHERE customer_id IN ($1, $2) AND status <> 'closed'
