-- A full import deletes every entry it does not keep, returning their ids (audited).
DELETE FROM kb_entries WHERE NOT (id = ANY($1)) RETURNING id
