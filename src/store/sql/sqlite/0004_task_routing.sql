-- Switchboard schema v4 (SQLite): why each task went where it went (the last offer's
-- explanation: rule, overflow step, target, candidates with the reasons others were out).

ALTER TABLE tasks ADD COLUMN routing TEXT;
