-- Stores a new rule-set version (the number comes from the table).
INSERT INTO routing_rule_sets (document, created_by, created_at) VALUES (?1, ?2, ?3)
