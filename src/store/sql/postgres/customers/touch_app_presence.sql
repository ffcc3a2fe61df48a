-- An app connection of a customer is open now (refreshed while open).
INSERT INTO app_presence (connection_id, customer_id, seen_at)
VALUES ($1, $2, $3)
ON CONFLICT (connection_id) DO UPDATE SET seen_at = EXCLUDED.seen_at
