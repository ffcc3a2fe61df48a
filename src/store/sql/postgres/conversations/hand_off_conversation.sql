-- A hand-off queues the conversation, only while it is with the bot (else the turn is stale).
UPDATE conversations SET status = 'queued' WHERE id = $1 AND status = 'bot'
