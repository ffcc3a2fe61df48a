-- Outbox rows not delivered, by status (metrics).
SELECT status, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending', 'parked') GROUP BY status
