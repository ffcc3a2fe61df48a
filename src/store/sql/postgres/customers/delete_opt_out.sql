-- Removes an opt-out (the address opted in again).
DELETE FROM opt_outs WHERE channel = $1 AND external_id = $2
