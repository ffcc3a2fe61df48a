-- Stores a message unless (channel, external_id) is stored already (0 rows: the caller reads the
-- stored one).
INSERT INTO messages (id, conversation_id, customer_id, channel, sender, body, client_id,
    external_id, agent_id, sent_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (channel, external_id) DO NOTHING
