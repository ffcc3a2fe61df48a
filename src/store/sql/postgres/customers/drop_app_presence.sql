-- Forgets a closed app connection, and every row not refreshed since a time.
DELETE FROM app_presence WHERE connection_id = $1 OR seen_at < $2
