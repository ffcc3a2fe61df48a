-- Moves a waiting or assigned task to a final status.
UPDATE tasks SET status = ?2, finished_at = ?3 WHERE id = ?1 AND status IN ('waiting', 'assigned')
