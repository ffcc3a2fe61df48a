-- The teams of one account.
SELECT team_id, agent_id, role FROM team_members WHERE agent_id = ?1 ORDER BY team_id
