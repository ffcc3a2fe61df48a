-- Records an agent's presence change.
INSERT INTO agent_presence (agent_id, status, at) VALUES ($1, $2, $3)
