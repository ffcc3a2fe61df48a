-- When the customer last wrote on a channel (e.g. WeChat's 48-hour window).
SELECT MAX(sent_at) AS at
FROM messages
WHERE customer_id = $1 AND channel = $2 AND sender = 'customer'
