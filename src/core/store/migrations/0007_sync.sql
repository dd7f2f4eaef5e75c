-- Runboard schema 7: team sync with MLflow tracking servers (src/core/sync/).
-- Never edit once merged: add 0008_….sql instead.

-- A run pulled from a teammate's server: that server's URL (read-only here); NULL for our own runs.
-- Its author is the run's `user` (schema 5).
ALTER TABLE runs ADD COLUMN remote TEXT;

-- One row per run and remote (by URL): a run we pushed there, or a run we pulled from there.
CREATE TABLE sync_runs (
  run_id                INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  remote                TEXT NOT NULL,
  origin                TEXT NOT NULL CHECK (origin IN ('pushed','pulled')),
  remote_run_id         TEXT,              -- NULL while runs/create is in flight (a crash there is found by tag)
  remote_experiment_id  TEXT,
  artifact_uri          TEXT,
  state                 TEXT NOT NULL DEFAULT '', -- pushed: status and end last sent; pulled: the remote's signature last read
  uncertain             INTEGER NOT NULL DEFAULT 0, -- a metric batch went out and its answer was not recorded
  synced_at             INTEGER,
  PRIMARY KEY (run_id, remote)
) WITHOUT ROWID;
CREATE UNIQUE INDEX sync_runs_by_remote_id ON sync_runs(remote, remote_run_id);

-- What a push already sent, so the next one sends only what is new. value: a param's or tag's
-- value, a metric's last step sent, an artifact's sha256, an input's fingerprint, a model
-- version's remote version, an alias's local version.
CREATE TABLE sync_sent (
  run_id  INTEGER NOT NULL,
  remote  TEXT NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('param','tag','metric','artifact','input','model','alias')),
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (run_id, remote, kind, key),
  FOREIGN KEY (run_id, remote) REFERENCES sync_runs(run_id, remote) ON DELETE CASCADE
) WITHOUT ROWID;
