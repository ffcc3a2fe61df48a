-- The customer behind (channel, external_id).
SELECT customer_id FROM identities WHERE channel = $1 AND external_id = $2
