-- Dry-run traffic: the tasks created in a window, with the queue, end and fallback recorded, and
-- their customer's tier and tags now.
SELECT id, conversation_id, customer_id, channel, language, required_skills, priority, intent,
    summary, status, agent_id, created_at, assigned_at, preferred_agent, context, transfer, queue,
    finished_at, fallback, c.tier, c.tags
FROM tasks JOIN (SELECT id AS cid, tier, tags FROM customers) c ON c.cid = tasks.customer_id
WHERE created_at >= $1 AND created_at < $2
ORDER BY created_at, id
