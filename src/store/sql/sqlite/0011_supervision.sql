-- Switchboard schema v11: transfers and away reasons.
--
-- A transfer is a task of its own (`transfer`: who hands the conversation on, to whom, with
-- what note, as JSON) that waits while the conversation's assigned task stays with the
-- sender; its acceptance ends the sender's task as 'transferred'. So a conversation has at
-- most one assigned-or-waiting hand-off task and at most one waiting transfer.
ALTER TABLE tasks ADD COLUMN transfer TEXT;
DROP INDEX tasks_one_open;
CREATE UNIQUE INDEX tasks_one_open ON tasks(conversation_id)
    WHERE status = 'assigned' OR (status = 'waiting' AND transfer IS NULL);
CREATE UNIQUE INDEX tasks_one_transfer ON tasks(conversation_id)
    WHERE status = 'waiting' AND transfer IS NOT NULL;

-- Why an agent is away (break, lunch, training, meeting: `agents.away_reasons`).
ALTER TABLE agent_presence ADD COLUMN reason TEXT;
