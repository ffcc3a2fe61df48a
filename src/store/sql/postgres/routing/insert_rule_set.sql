-- Stores a new rule-set version and returns its number.
INSERT INTO routing_rule_sets (document, created_by, created_at)
VALUES ($1, $2, $3)
RETURNING version
