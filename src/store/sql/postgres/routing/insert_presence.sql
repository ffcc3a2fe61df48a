-- Records an agent's presence change (with the away reason, if any).
INSERT INTO agent_presence (agent_id, status, at, reason) VALUES ($1, $2, $3, $4)
