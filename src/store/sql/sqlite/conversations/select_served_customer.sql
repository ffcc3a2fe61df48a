-- Whether agent ?2 serves or has served customer ?1: a task of theirs, or a conversation
-- they hold.
SELECT EXISTS (SELECT 1 FROM tasks WHERE customer_id = ?1 AND agent_id = ?2)
    OR EXISTS (SELECT 1 FROM conversations WHERE customer_id = ?1 AND agent_id = ?2)
