-- Runboard schema 5: what MLflow's tracking API needs that Runboard lacked (src/core/mlflow/).
-- Never edit once merged: add 0006_….sql instead.

-- Each run's MLflow id: 32 lowercase hex digits, beside the integer id Runboard shows.
ALTER TABLE runs ADD COLUMN mlflow_id TEXT;
UPDATE runs SET mlflow_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX runs_by_mlflow_id ON runs(mlflow_id);

-- A run deleted through MLflow is kept (it can be restored) but hidden from lists; ms since epoch.
ALTER TABLE runs ADD COLUMN deleted_at INTEGER;

-- Who logged the run (MLflow's user_id and `mlflow.user` tag).
ALTER TABLE runs ADD COLUMN user TEXT;

CREATE TABLE experiment_tags (
  experiment_id  INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  key            TEXT NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
