-- Removes an account from every team (before its memberships are written again).
DELETE FROM team_members WHERE agent_id = ?1
