import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { loadMigrations, openDb } from '../../src/core/store/db.ts';
import { Store } from '../../src/core/store/store.ts';
import { storageProblem, UserError } from '../../src/core/errors.ts';
import { tempDir } from './helpers.ts';

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
  const store = Store.open(file, { migrations: [first!] });
  const run = store.createRun({ name: 'keep-me' });
  store.close();
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
