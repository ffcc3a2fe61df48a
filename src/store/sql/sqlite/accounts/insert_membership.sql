-- Puts an account in a team as lead or member.
INSERT INTO team_members (team_id, agent_id, role) VALUES (?1, ?2, ?3)
