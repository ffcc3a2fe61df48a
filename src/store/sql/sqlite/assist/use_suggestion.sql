-- Marks a suggestion as used: only the agent's own, in its conversation, the first time.
UPDATE assist_suggestions
SET used_at = ?3
WHERE id = ?1 AND agent_id = ?2 AND conversation_id = ?4 AND used_at IS NULL
