-- Whether (channel, external_id) opted out.
SELECT 1 AS one FROM opt_outs WHERE channel = $1 AND external_id = $2
