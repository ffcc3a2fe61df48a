-- Records a merge and what it moved.
INSERT INTO customer_merges (id, into_customer, from_customer, moved, merged_by, merged_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
