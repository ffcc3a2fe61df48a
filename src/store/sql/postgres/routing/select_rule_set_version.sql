-- Whether a rule-set version exists.
SELECT version FROM routing_rule_sets WHERE version = $1
