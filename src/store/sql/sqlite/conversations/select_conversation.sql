-- A conversation by id.
SELECT id, customer_id, status, last_channel, agent_id, bot_state, opened_at, closed_at, resolution
FROM conversations
WHERE id = ?1
