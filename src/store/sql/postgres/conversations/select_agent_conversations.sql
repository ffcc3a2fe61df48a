-- Conversations an agent currently owns, oldest first.
SELECT id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution
FROM conversations
WHERE agent_id = $1 AND status = 'assigned'
ORDER BY opened_at
