-- Runboard schema 4: how far capture has stored each source of a run it is capturing, so that
-- when its recorder dies the rest is read again from the logs (launch/reconcile.ts).
-- Never edit once merged: add 0005_….sql instead.

-- One row while a run's capture is open; deleted with its last batch.
CREATE TABLE ingest_runs (
  run_id    INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  recorder  INTEGER NOT NULL,                  -- pid of the process capturing the run
  since     INTEGER NOT NULL,                  -- when it took the run (ms): a later start is a reused pid
  settings  TEXT NOT NULL                      -- JSON: the capture's line pattern and reader switches
);

CREATE TABLE ingest_checkpoints (
  run_id  INTEGER NOT NULL REFERENCES ingest_runs(run_id) ON DELETE CASCADE,
  source  TEXT NOT NULL,                       -- a file of the run folder: stdout.log, metrics.jsonl, logs/metrics.csv
  bytes   INTEGER NOT NULL,                    -- bytes of it read
  lines   INTEGER NOT NULL,                    -- lines of it whose points are stored
  PRIMARY KEY (run_id, source)
) WITHOUT ROWID;
