-- Opens a ticket, once per source_key (a retried turn opens no second ticket).
INSERT INTO tickets (id, customer_id, conversation_id, kind, subject, fields, status, source_key,
    created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (source_key) DO NOTHING
