-- Whether a customer has an app connection refreshed since a time.
SELECT 1 FROM app_presence WHERE customer_id = ?1 AND seen_at >= ?2 LIMIT 1
