-- Settles a pending delivery made another way (a WeChat passive reply), if no worker ever tried it.
UPDATE outbox
SET status = 'delivered', settled_at = $2, lease_until = NULL
WHERE id = $1 AND status = 'pending' AND attempts = 0
