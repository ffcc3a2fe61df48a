-- Appends an entry to the audit log (inside the transaction of the write it records).
INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)
