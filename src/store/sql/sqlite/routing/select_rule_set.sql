-- A rule-set version.
SELECT version, document, created_by, created_at FROM routing_rule_sets WHERE version = ?1
