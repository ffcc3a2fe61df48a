-- Stores a message; a duplicate (channel, external_id) is a unique violation the caller answers
-- with the stored message.
INSERT INTO messages (id, conversation_id, customer_id, channel, sender, body, client_id,
    external_id, agent_id, sent_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
