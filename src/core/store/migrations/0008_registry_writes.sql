-- Runboard schema 8: the rest of MLflow's registry and experiment writes (src/core/mlflow/registry.ts,
-- src/core/mlflow/experiments.ts). Never edit once merged: add 0009_….sql instead.

-- A deleted model version is kept, hidden, as MLflow keeps it: its number is never given again, and
-- the deployments and lineage that name it still resolve. ms since epoch.
ALTER TABLE model_versions ADD COLUMN deleted_at INTEGER;
ALTER TABLE model_versions ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- MLflow's last_updated_timestamp (description, stage, rename); NULL until first changed.
ALTER TABLE model_versions ADD COLUMN updated_at INTEGER;
-- MLflow's deprecated stages: None, Staging, Production, Archived.
ALTER TABLE model_versions ADD COLUMN stage TEXT NOT NULL DEFAULT 'None';

CREATE TABLE model_version_tags (
  model_version_id  INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  key               TEXT NOT NULL,
  value             TEXT NOT NULL,
  PRIMARY KEY (model_version_id, key)
) WITHOUT ROWID;

CREATE TABLE registered_model_tags (
  name   TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (name, key)
) WITHOUT ROWID;

-- An alias removed is a move too (to_version NULL), so the history says when it went. SQLite cannot
-- drop NOT NULL in place: the table is rebuilt as its documentation says (ids kept).
CREATE TABLE alias_moves_new (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  alias         TEXT NOT NULL,
  from_version  INTEGER,
  to_version    INTEGER,                     -- NULL: the alias was removed
  moved_at      INTEGER NOT NULL
);
INSERT INTO alias_moves_new (id, name, alias, from_version, to_version, moved_at)
  SELECT id, name, alias, from_version, to_version, moved_at FROM alias_moves;
DROP TABLE alias_moves;
ALTER TABLE alias_moves_new RENAME TO alias_moves;

-- MLflow's experiment lifecycle: a deleted experiment is kept (restorable) with its runs hidden.
ALTER TABLE experiments ADD COLUMN deleted_at INTEGER;
-- MLflow's last_update_time (rename, delete, restore); NULL until first changed.
ALTER TABLE experiments ADD COLUMN updated_at INTEGER;
