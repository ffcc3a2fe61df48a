-- Every team membership.
SELECT team_id, agent_id, role FROM team_members ORDER BY team_id, agent_id
