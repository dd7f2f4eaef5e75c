-- Runboard schema 2: how many console lines each reader took as metrics, per run (runboard show).
-- Never edit once merged: add 0003_….sql instead.

CREATE TABLE capture_readers (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  reader  TEXT NOT NULL,                      -- json, progress, pairs, table or regex
  lines   INTEGER NOT NULL,
  PRIMARY KEY (run_id, reader)
) WITHOUT ROWID;
