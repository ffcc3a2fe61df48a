-- The customer's conversation that is not closed, if any.
SELECT id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution
FROM conversations
WHERE customer_id = ?1 AND status <> 'closed'
ORDER BY opened_at DESC
LIMIT 1
