-- Up to a limit of conversations closed as resolved, newest first.
SELECT id, closed_at
FROM conversations
WHERE resolution = 'resolved' AND closed_at IS NOT NULL
ORDER BY closed_at DESC, id
LIMIT $1
