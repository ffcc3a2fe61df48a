-- Stores a new conversation (a second open one of a customer is a unique violation).
INSERT INTO conversations (id, customer_id, status, last_channel, agent_id, bot_state, opened_at,
    closed_at, resolution)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
