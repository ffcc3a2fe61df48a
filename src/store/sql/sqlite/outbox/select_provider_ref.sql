-- Whether a delivery of the channel has this provider id.
SELECT 1 FROM outbox WHERE channel = ?1 AND provider_ref = ?2
