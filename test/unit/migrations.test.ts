import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { storageProblem, UserError } from '../../src/core/errors.ts';
import { migrationsDir } from '../../src/core/paths.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { loadMigrations, openDb, type Migration } from '../../src/core/store/db.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir, tempStore } from './helpers.ts';
import { recordRun } from './registryFixtures.ts';

test('a new database is created in WAL mode at the latest schema', () => {
  const file = join(tempDir(), 'nested', 'runboard.db');
  const db = openDb(file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), loadMigrations().length);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
  for (const t of ['experiments', 'runs', 'params', 'tags', 'metrics', 'metric_rollups', 'metric_summaries', 'artifacts', 'datasets', 'run_inputs', 'code_states', 'environments', 'model_versions', 'model_aliases', 'deployments', 'lineage_edges']) {
    assert.ok(tables.includes(t), `table ${t} exists`);
  }
  db.close();
});

test('pending migrations run after a backup, and only once', () => {
  const dir = tempDir();
  const file = join(dir, 'runboard.db');
  const [first] = loadMigrations();
  openDb(file, { migrations: [first!] }).close();
  const extra = { version: 2, name: '0002_notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);' };
  const db = openDb(file, { migrations: [first!, extra] });
  assert.equal(db.pragma('user_version', { simple: true }), 2);
  db.close();
  assert.ok(existsSync(`${file}.bak-v1`), 'a backup of schema 1 was taken before upgrading');
  const backup = new Database(`${file}.bak-v1`, { readonly: true });
  assert.equal(backup.pragma('user_version', { simple: true }), 1);
  backup.close();
});

test('a failing migration rolls back every pending step and keeps the data', () => {
  const file = join(tempDir(), 'runboard.db');
  const [first] = loadMigrations();
  // Raw SQL: the store's statements read columns of later schemas.
  const schema1 = openDb(file, { migrations: [first!] });
  schema1.prepare(`INSERT INTO experiments (id, name, created_at) VALUES (1, 'Default', 0)`).run();
  const run = { id: Number(schema1.prepare(`INSERT INTO runs (experiment_id, name, status, created_at) VALUES (1, 'keep-me', 'queued', 0)`).run().lastInsertRowid) };
  schema1.close();
  const good = { version: 2, name: '0002_good', sql: 'CREATE TABLE good (x INTEGER);' };
  const bad = { version: 3, name: '0003_bad', sql: 'ALTER TABLE runs ADD COLUMN oops TEXT; SELECT * FROM no_such_table;' };
  assert.throws(() => openDb(file, { migrations: [first!, good, bad] }), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /0003_bad failed and was rolled back/);
    return true;
  });
  const db = new Database(file);
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'good'").pluck().get(), 0);
  const columns = db.prepare('PRAGMA table_info(runs)').all() as { name: string }[];
  assert.ok(!columns.some((c) => c.name === 'oops'));
  assert.equal(db.prepare('SELECT name FROM runs WHERE id = ?').pluck().get(run.id), 'keep-me');
  db.close();
});

test('a database from a newer Runboard is refused, untouched', () => {
  const file = join(tempDir(), 'runboard.db');
  openDb(file).close();
  const raw = new Database(file);
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => openDb(file), new RegExp(`written by a newer Runboard \\(schema 99; this version knows up to ${loadMigrations().length}\\)`));
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), 99);
  check.close();
});

test('a corrupted file gives a clear error and is left as it was', () => {
  const file = join(tempDir(), 'runboard.db');
  const garbage = Buffer.from('this is not a database, just some text that someone saved here'.repeat(100));
  writeFileSync(file, garbage);
  assert.throws(() => openDb(file), (err: Error) => err instanceof UserError && /not a readable Runboard database/.test(err.message));
  assert.deepEqual(readFileSync(file), garbage);
});

test('opening read-only never creates a database', () => {
  const file = join(tempDir(), 'missing', 'runboard.db');
  assert.throws(() => openDb(file, { readonly: true }), /No Runboard database/);
  assert.equal(existsSync(file), false);
});

test('storage errors become one sentence a user can act on; other errors are left alone', () => {
  const problem = (code: string) => storageProblem(Object.assign(new Error(code), { code }));
  assert.match(problem('SQLITE_FULL')!, /disk holding the Runboard database is full/);
  assert.match(problem('SQLITE_READONLY_DBMOVED')!, /cannot be written here/);
  assert.match(problem('SQLITE_BUSY_SNAPSHOT')!, /locked by another process/);
  assert.match(problem('SQLITE_LOCKED')!, /locked by another process/);
  assert.match(problem('SQLITE_IOERR_WRITE')!, /could not be read or written/);
  assert.equal(problem('SQLITE_CONSTRAINT_PRIMARYKEY'), undefined);
  assert.equal(storageProblem(new Error('plain')), undefined);
  assert.equal(storageProblem(undefined), undefined);
});

test('a second process opening a database another one migrated applies nothing twice', () => {
  const file = join(tempDir(), 'runboard.db');
  const first = openDb(file);
  const second = openDb(file);
  assert.equal(second.pragma('user_version', { simple: true }), loadMigrations().length);
  first.close();
  second.close();
});

/** SQLite's documented 12-step rebuild of `runs` (a new column it cannot ALTER in: a CHECK). */
// The fixtures below sit at the shipped schema, written by the current code; test migrations come next.
const SHIPPED = loadMigrations();
const NEXT = SHIPPED.length + 1;
const nextName = (name: string) => `${String(NEXT).padStart(4, '0')}_${name}`;

const REBUILD_RUNS: Migration = {
  version: NEXT,
  name: nextName('rebuild_runs'),
  sql: `
    CREATE TABLE runs_new (
      id              INTEGER PRIMARY KEY AUTOINCREMENT,
      experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      name            TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','killed','crashed')),
      command         TEXT NOT NULL DEFAULT '[]',
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
      malformed_lines INTEGER NOT NULL DEFAULT 0,
      mlflow_id       TEXT,
      deleted_at      INTEGER,
      user            TEXT,
      remote          TEXT,
      note            TEXT CHECK (length(note) <= 1000)
    );
    INSERT INTO runs_new (id, experiment_id, name, status, command, cwd, pid, host, profile, run_dir, parent_id, created_at,
        started_at, ended_at, exit_code, signal, error, malformed_lines, mlflow_id, deleted_at, user, remote)
      SELECT id, experiment_id, name, status, command, cwd, pid, host, profile, run_dir, parent_id, created_at,
        started_at, ended_at, exit_code, signal, error, malformed_lines, mlflow_id, deleted_at, user, remote FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_new RENAME TO runs;
    CREATE INDEX runs_by_experiment ON runs(experiment_id, id);
    CREATE INDEX runs_by_status ON runs(status);
    CREATE INDEX runs_by_parent ON runs(parent_id) WHERE parent_id IS NOT NULL;
    CREATE UNIQUE INDEX runs_by_mlflow_id ON runs(mlflow_id);`,
};

/** A database at the shipped schema holding a row in every table, the way Runboard writes them. */
function populatedDatabase(): string {
  const { workspace } = tempStore();
  const file = join(workspace, '.runboard', 'shipped.db');
  const store = Store.open(file);
  const model = join(workspace, 'model.bin');
  writeFileSync(model, 'model bytes');
  const data = join(workspace, 'train.csv');
  writeFileSync(data, '1,2\n');
  const run = recordRun(store, workspace, { model, data, name: 'parent', metrics: { accuracy: 0.9 }, environment: { python: '3.12' } });
  store.setParams(run.id, { lr: 0.1 });
  store.setTags(run.id, { owner: 'ana' });
  // Enough steps to fill rollup buckets, with a NaN kept as NULL.
  store.logMetrics(run.id, Array.from({ length: 300 }, (_, step) => ({ key: 'loss', step, value: step === 7 ? NaN : 1 / (step + 1) })));
  store.createRun({ parentId: run.id, params: { seed: 1 } });
  store.cacheFingerprint(data, 4, 1000, 'f'.repeat(64));
  const registry = new Registry(store, workspace);
  const version = registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl', aliases: ['champion'] });
  registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl', allowIdentical: true });
  registry.setAlias('churn', 'champion', 2);
  store.close();
  const raw = new Database(file);
  const deployment = raw
    .prepare(`INSERT INTO deployments (model_version_id, target, status, config, created_at) VALUES (?, 'local', 'running', '{}', 1)`)
    .run(version.id).lastInsertRowid;
  raw.prepare(`INSERT INTO lineage_edges VALUES ('model_version', ?, 'deployment', ?, 'deployed')`).run(version.id, deployment);
  raw.close();
  return file;
}

/** Every row of every table (the columns the shipped schema has), sorted, so two snapshots compare whole. */
function everyRow(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
    return Object.fromEntries(
      tables.map((table) => {
        const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'note');
        const rows = db.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).raw().all().map((r) => JSON.stringify(r)).sort();
        return [table, rows];
      }),
    );
  } finally {
    db.close();
  }
}

test('a migration that rebuilds runs (create, copy, drop, rename) keeps every row of every table', () => {
  const file = populatedDatabase();
  const before = everyRow(file);
  for (const table of ['params', 'tags', 'metrics', 'metric_rollups', 'metric_summaries', 'artifacts', 'run_inputs', 'datasets', 'code_states', 'environments', 'fingerprint_cache', 'model_versions', 'model_aliases', 'alias_moves', 'deployments', 'lineage_edges']) {
    assert.ok(before[table]!.length > 0, `the fixture has rows in ${table}`);
  }
  const db = openDb(file, { migrations: [...SHIPPED, REBUILD_RUNS] });
  assert.equal(db.pragma('user_version', { simple: true }), NEXT);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again after migrating');
  db.close();
  assert.deepEqual(everyRow(file), before);
  const store = Store.open(file, { migrations: [...SHIPPED, REBUILD_RUNS] });
  const parent = store.resolveRun('parent');
  assert.equal(store.params(parent.id).lr, '0.1');
  assert.equal(store.summaries(parent.id).loss!.count, 300);
  assert.equal(store.runs({ parentId: parent.id }).length, 1);
  store.close();
});

test('a migration that leaves a dangling reference is rolled back with the table named, and the data is untouched', () => {
  const file = populatedDatabase();
  const before = everyRow(file);
  const orphaning: Migration = { version: NEXT, name: nextName('orphans'), sql: 'CREATE TABLE notes (x INTEGER); DELETE FROM experiments;' };
  assert.throws(() => openDb(file, { migrations: [...SHIPPED, orphaning] }), (err: Error) => {
    assert.ok(err instanceof UserError, String(err));
    assert.equal(err.message.split('\n').length, 1);
    assert.match(err.message, new RegExp(`${nextName('orphans')} was rolled back: it left rows of runs pointing at missing rows of experiments`));
    return true;
  });
  assert.deepEqual(everyRow(file), before);
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SHIPPED.length);
  db.close();
});

// A merged migration has run on users' databases: editing it would give two schemas one number.
const SHIPPED_MIGRATIONS: Record<string, string> = {
  '0001_init': 'c8c9a992a58e41e89d11d8ec5d7438dd09a2b0c97260f4ea0980a3dceff4e4b0',
  '0002_capture_readers': '6a71a6732fd8af4853536de767ca7ace3f60c4efe9f10464a045038141b42402',
  '0003_replaced_points': '9504245449e7ce898be3ef655e8569d49cbcadd104d7c6289e9e7a0e03df0941',
  '0004_ingest_checkpoints': '50e6193e944aaa11d30007525688a731047601e820f53af78f6d1d153b835bf5',
  '0005_mlflow': 'e658988af54e30c38d9968196795e090dbfcb912377058d79474ccf51cf64051',
  '0006_registered_models': '657b231c82cc73623413c9e5f00ce7e9b0d26b1919e55209ebf2a8e0b0164b60',
  '0007_sync': '672cc8eba3c1ad9aabed615d989c95980395eaf52a27472387824804801c498a',
  '0008_registry_writes': 'b438ef24be23b927c720d27a670e86f8c31273492c1fa1ee842535769a9218a9',
};

test('shipped migrations are never edited once merged', () => {
  const shipped = loadMigrations();
  for (const m of shipped) {
    const pinned = SHIPPED_MIGRATIONS[m.name];
    assert.ok(pinned !== undefined, `${m.name} is new: pin its sha256 in SHIPPED_MIGRATIONS`);
    const actual = createHash('sha256').update(readFileSync(join(migrationsDir(), `${m.name}.sql`))).digest('hex');
    assert.equal(actual, pinned, `${m.name}.sql changed after it shipped: restore it and add a new numbered migration instead`);
  }
  assert.deepEqual(shipped.map((m) => m.name), Object.keys(SHIPPED_MIGRATIONS), 'every pinned migration still ships');
});

test('schema 5 gives every existing run its own 32-hex MLflow id, and new runs one too', () => {
  const file = join(tempDir(), 'runboard.db');
  const schema4 = openDb(file, { migrations: loadMigrations().slice(0, 4) });
  schema4.prepare(`INSERT INTO experiments (id, name, created_at) VALUES (1, 'Default', 0)`).run();
  const insert = schema4.prepare(`INSERT INTO runs (experiment_id, name, status, created_at) VALUES (1, ?, 'finished', 0)`);
  for (const name of ['a', 'b', 'c']) insert.run(name);
  schema4.close();
  const store = Store.open(file);
  const ids = store.runs().map((run) => run.mlflowId);
  const created = store.createRun({ name: 'd' });
  const given = store.createRun({ name: 'e', mlflowId: 'a'.repeat(32) });
  store.close();
  assert.equal(new Set(ids).size, 3);
  for (const id of [...ids, created.mlflowId]) assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(given.mlflowId, 'a'.repeat(32));
});
