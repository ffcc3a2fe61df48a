-- A turn moves the conversation's last channel and bot state on (never its status or agent).
UPDATE conversations SET last_channel = ?2, bot_state = ?3 WHERE id = ?1
