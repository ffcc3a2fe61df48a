-- Records a provider's delivery status callback; callbacks arrive out of order, so an earlier
-- status (lower rank, the CASE of crate::store::PROVIDER_STATUS_RANKS) never overwrites a later
-- one.
UPDATE outbox
SET provider_status = $3, provider_status_at = $4
WHERE channel = $1 AND provider_ref = $2 AND (provider_status IS NULL OR (CASE provider_status
        WHEN 'accepted' THEN 1
        WHEN 'scheduled' THEN 1
        WHEN 'queued' THEN 1
        WHEN 'sending' THEN 2
        WHEN 'sent' THEN 3
        WHEN 'receiving' THEN 3
        WHEN 'received' THEN 4
        WHEN 'delivered' THEN 4
        WHEN 'undelivered' THEN 4
        WHEN 'failed' THEN 4
        WHEN 'canceled' THEN 4
        WHEN 'read' THEN 5
        ELSE 0 END) <= $5)
