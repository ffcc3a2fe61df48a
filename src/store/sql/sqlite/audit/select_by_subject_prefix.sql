-- Audit entries whose subject starts with a prefix (LIKE pattern, '\' escapes), newest first.
SELECT id, at, actor, action, subject, detail
FROM audit_log
WHERE subject LIKE ?1 ESCAPE '\'
ORDER BY id DESC
LIMIT ?2
