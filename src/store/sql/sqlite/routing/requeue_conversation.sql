-- A conversation whose agent left goes back to the queue (its new task waits for another agent).
UPDATE conversations SET status = 'queued', agent_id = NULL WHERE id = ?1 AND status = 'assigned'
