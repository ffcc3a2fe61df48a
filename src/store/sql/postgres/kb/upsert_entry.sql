-- Inserts or replaces a knowledge-base entry.
INSERT INTO kb_entries (id, document, status, updated_at, updated_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET document = excluded.document, status = excluded.status,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by
