-- Dry-run traffic: each account's last presence change before the window (its state when the window
-- opens), then every change in the window, in order.
SELECT agent_id, status, at FROM (
  SELECT p.id, p.agent_id, p.status, p.at FROM agents a CROSS JOIN LATERAL
    (SELECT q.id, q.agent_id, q.status, q.at FROM agent_presence q
      WHERE q.agent_id = a.id AND q.at < $1 ORDER BY q.at DESC, q.id DESC LIMIT 1) p
  UNION ALL
  SELECT id, agent_id, status, at FROM agent_presence WHERE at >= $1 AND at < $2
) w ORDER BY at, id
