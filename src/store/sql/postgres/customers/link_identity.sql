-- Links (channel, external_id) to a customer unless someone has it already (the first owner wins).
INSERT INTO identities (channel, external_id, customer_id, created_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (channel, external_id) DO NOTHING
