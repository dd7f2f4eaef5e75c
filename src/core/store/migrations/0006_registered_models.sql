-- Runboard schema 6: a registered model as MLflow's registry has one (src/core/mlflow/registry.ts).
-- Never edit once merged: add 0007_….sql instead.

-- Runboard's registry knows a model by its versions; MLflow clients create a model first (empty),
-- read its creation time and description, and update the description. A row here is such a model;
-- a name with versions and no row is a model too (registered by Runboard itself).
CREATE TABLE registered_models (
  name         TEXT PRIMARY KEY,
  description  TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,             -- epoch ms
  updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
