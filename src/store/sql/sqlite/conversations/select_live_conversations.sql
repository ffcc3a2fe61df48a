-- The open conversations for the live board: queued and assigned first, then the bot's, oldest
-- first, at most ?1; with the customer, the hand-off task (waiting or assigned) and the time
-- of the last message.
SELECT c.id, c.customer_id, c.status, c.last_channel, c.agent_id, c.opened_at,
    cu.display_name, cu.tier, cu.tags, cu.created_at AS customer_created_at,
    t.priority, t.queue, t.created_at AS task_created_at,
    (SELECT max(m.sent_at) FROM messages m WHERE m.conversation_id = c.id) AS last_message_at
FROM conversations c
JOIN customers cu ON cu.id = c.customer_id
LEFT JOIN tasks t ON t.conversation_id = c.id
    AND (t.status = 'assigned' OR (t.status = 'waiting' AND t.transfer IS NULL))
WHERE c.status <> 'closed'
ORDER BY CASE c.status WHEN 'bot' THEN 1 ELSE 0 END, c.opened_at, c.id
LIMIT ?1
