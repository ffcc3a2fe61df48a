-- Overwrites a conversation's mutable fields.
UPDATE conversations
SET status = $2, last_channel = $3, agent_id = $4, bot_state = $5, closed_at = $6, resolution = $7
WHERE id = $1
