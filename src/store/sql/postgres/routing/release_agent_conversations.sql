-- Conversations an agent who left still holds without an open task (a wrap-up or give-back
-- half done) go back to the bot; returns their customers.
UPDATE conversations SET status = 'bot', agent_id = NULL
WHERE agent_id = $1 AND status = 'assigned'
RETURNING customer_id
