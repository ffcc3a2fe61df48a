-- Records an opt-out; the first keyword and time stay.
INSERT INTO opt_outs (channel, external_id, keyword, opted_out_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (channel, external_id) DO NOTHING
