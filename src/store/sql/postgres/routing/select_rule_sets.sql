-- Every rule-set version, oldest first.
SELECT version, document, created_by, created_at FROM routing_rule_sets ORDER BY version
