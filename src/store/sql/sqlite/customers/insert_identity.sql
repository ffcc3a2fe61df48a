-- A first contact's identity, in the transaction that creates its customer.
INSERT INTO identities (channel, external_id, customer_id, created_at) VALUES (?1, ?2, ?3, ?4)
