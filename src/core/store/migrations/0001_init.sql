-- Runboard schema 1. Never edit once merged: add 0002_….sql instead.

CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL              -- epoch ms
);

CREATE TABLE runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: caches and users may hold an id
  experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','killed','crashed')),
  command         TEXT NOT NULL DEFAULT '[]', -- JSON argv, never a shell string
  cwd             TEXT,
  pid             INTEGER,
  host            TEXT,
  profile         TEXT,
  run_dir         TEXT,
  parent_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  ended_at        INTEGER,
  exit_code       INTEGER,
  signal          TEXT,
  error           TEXT,
  malformed_lines INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, id);
CREATE INDEX runs_by_status ON runs(status);
CREATE INDEX runs_by_parent ON runs(parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE params (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE tags (
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE metric_keys (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE
);

-- Raw points, keyed the way charts read them. NULL value = NaN (SQLite cannot store NaN);
-- ±Inf is stored as is. No foreign keys here: they would cost a lookup per point.
CREATE TABLE metrics (
  run_id  INTEGER NOT NULL,
  key_id  INTEGER NOT NULL,
  step    INTEGER NOT NULL,
  wall    INTEGER NOT NULL,                 -- ms since the run's created_at: 4 bytes, not 6
  value   REAL,
  PRIMARY KEY (run_id, key_id, step)
) WITHOUT ROWID;

-- Rollup tiers: bucket = step >> tier. Min/max/sum/count over finite values only;
-- nonfinite counts NaN/±Inf; last is the value at the bucket's highest step.
CREATE TABLE metric_rollups (
  run_id     INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  tier       INTEGER NOT NULL,
  bucket     INTEGER NOT NULL,
  min        REAL,
  max        REAL,
  sum        REAL NOT NULL,
  count      INTEGER NOT NULL,
  nonfinite  INTEGER NOT NULL,
  last       REAL,
  last_step  INTEGER NOT NULL,
  last_wall  INTEGER NOT NULL,                -- ms since the run's created_at
  PRIMARY KEY (run_id, key_id, tier, bucket)
) WITHOUT ROWID;

CREATE TABLE metric_summaries (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key_id      INTEGER NOT NULL,
  last        REAL,
  last_step   INTEGER NOT NULL,
  last_wall   INTEGER NOT NULL,
  min         REAL,
  max         REAL,
  count       INTEGER NOT NULL,             -- all points, finite or not
  nonfinite   INTEGER NOT NULL,
  PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;

CREATE TABLE artifacts (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,                -- relative to the run's output dir
  size        INTEGER NOT NULL,
  sha256      TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('model','data','plot','other')),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
) WITHOUT ROWID;

CREATE TABLE datasets (
  id           INTEGER PRIMARY KEY,
  path         TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  size         INTEGER NOT NULL,
  UNIQUE (path, fingerprint)
);

CREATE TABLE run_inputs (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  dataset_id  INTEGER NOT NULL REFERENCES datasets(id),
  PRIMARY KEY (run_id, dataset_id)
) WITHOUT ROWID;

-- Lets a re-run skip re-hashing an unchanged file (path + size + mtime unchanged).
CREATE TABLE fingerprint_cache (
  path         TEXT PRIMARY KEY,
  size         INTEGER NOT NULL,
  mtime_ms     INTEGER NOT NULL,
  fingerprint  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE code_states (
  run_id           INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  git_commit       TEXT,
  branch           TEXT,
  dirty            INTEGER NOT NULL DEFAULT 0,
  patch            TEXT,
  patch_truncated  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE environments (
  run_id  INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  info    TEXT NOT NULL                     -- JSON: python, packages, os, cpu, …
);

CREATE TABLE model_versions (
  id             INTEGER PRIMARY KEY,
  name           TEXT NOT NULL,
  version        INTEGER NOT NULL,
  run_id         INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  source_path    TEXT NOT NULL,
  stored_path    TEXT NOT NULL,
  sha256         TEXT NOT NULL,
  size           INTEGER NOT NULL,
  no_lineage     INTEGER NOT NULL DEFAULT 0,
  snapshot       TEXT NOT NULL DEFAULT '{}', -- JSON: metrics, inputs, commit, patch at registration
  forced         TEXT,                       -- JSON list of gates overridden, if any
  created_at     INTEGER NOT NULL,
  UNIQUE (name, version)
);

CREATE TABLE model_aliases (
  name     TEXT NOT NULL,
  alias    TEXT NOT NULL,
  version  INTEGER NOT NULL,
  PRIMARY KEY (name, alias)
) WITHOUT ROWID;

CREATE TABLE alias_moves (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  alias         TEXT NOT NULL,
  from_version  INTEGER,
  to_version    INTEGER NOT NULL,
  moved_at      INTEGER NOT NULL
);

CREATE TABLE deployments (
  id                INTEGER PRIMARY KEY,
  model_version_id  INTEGER NOT NULL REFERENCES model_versions(id),
  target            TEXT NOT NULL,
  status            TEXT NOT NULL,
  url               TEXT,
  port              INTEGER,
  pid               INTEGER,
  dir               TEXT,
  config            TEXT NOT NULL DEFAULT '{}',
  error             TEXT,
  forced            TEXT,
  replaces_id       INTEGER REFERENCES deployments(id),
  created_at        INTEGER NOT NULL,
  stopped_at        INTEGER
);

-- Generic lineage graph: dataset -input-> run -produced-> model_version -deployed-> deployment,
-- run -child/rerun-> run. Kinds: dataset, run, model_version, deployment.
CREATE TABLE lineage_edges (
  src_kind  TEXT NOT NULL,
  src_id    INTEGER NOT NULL,
  dst_kind  TEXT NOT NULL,
  dst_id    INTEGER NOT NULL,
  relation  TEXT NOT NULL,
  PRIMARY KEY (dst_kind, dst_id, src_kind, src_id, relation)
) WITHOUT ROWID;
CREATE INDEX lineage_by_src ON lineage_edges(src_kind, src_id);
