-- The rule set in force, and who activated it when.
SELECT s.version, s.document, s.created_by, s.created_at, a.activated_by, a.activated_at
FROM routing_active a JOIN routing_rule_sets s ON s.version = a.version
WHERE a.id = 1
