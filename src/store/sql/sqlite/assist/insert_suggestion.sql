-- Records a suggestion shown to an agent (once per id).
INSERT INTO assist_suggestions (id, conversation_id, message_id, agent_id, kind, reference, rank,
    score, shown_at, used_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (id) DO NOTHING
