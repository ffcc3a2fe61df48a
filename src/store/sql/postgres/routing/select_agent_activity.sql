-- An agent's presence changes in [from, to), oldest first, after their state when it opens;
-- at most 1,000.
SELECT status, reason, at FROM (
  SELECT * FROM (
    SELECT id, status, reason, at FROM agent_presence
    WHERE agent_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT 1
  ) opening
  UNION ALL
  SELECT * FROM (
    SELECT id, status, reason, at FROM agent_presence
    WHERE agent_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT 1000
  ) within_window
) entries ORDER BY at, id
