-- Records the queue a task was routed to and why it was offered where it was.
UPDATE tasks SET routing = ?2, queue = ?3 WHERE id = ?1
