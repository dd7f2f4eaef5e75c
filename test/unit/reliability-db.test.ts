import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadMigrations, openDb } from '../../src/core/store/db.ts';
import { Store } from '../../src/core/store/store.ts';
import { cli, json, type CliResult } from './cliHarness.ts';
import { buildRun, tempDir } from './helpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/** A workspace whose database holds `count` finished runs with a loss series, closed (no -wal, no -shm left). */
function recordedWorkspace(count = 1): { ws: string; dbPath: string } {
  const ws = tempDir();
  const dbPath = join(ws, '.runboard', 'runboard.db');
  const store = Store.open(dbPath);
  for (let i = 0; i < count; i++) {
    const run = buildRun(store, { name: `run-${i + 1}-${'x'.repeat(200)}`, series: { loss: [0.5, 0.25] } });
    store.markEnded(run.id, { status: 'finished' });
  }
  store.close();
  return { ws, dbPath };
}

/** The CLI as "nobody": root may write anything, so a user without write access is another user. */
function cliAsNobody(args: string[], cwd: string): CliResult {
  const ran = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, RUNBOARD_DB: '', HOME: cwd },
    encoding: 'utf8',
    timeout: 60_000,
    uid: NOBODY,
    gid: NOBODY,
  });
  return { code: ran.status, stdout: ran.stdout, stderr: ran.stderr };
}

const firstRunName = (result: CliResult) => json(result)[0]?.name as string | undefined;

describe('a database written by a newer Runboard', () => {
  it('is refused without a byte changed, even in rollback-journal mode (no switch to WAL)', () => {
    const file = join(tempDir(), 'runboard.db');
    openDb(file).close();
    const raw = new Database(file);
    raw.pragma('journal_mode = DELETE');
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(file);
    assert.throws(() => openDb(file), new RegExp(`written by a newer Runboard \\(schema 99; this version knows up to ${loadMigrations().length}\\).*the file was not changed`));
    assert.deepEqual(readFileSync(file), before);
  });
});

describe('a database nobody may write', () => {
  it('on a read-only mount: runs, show, metrics and deployments read it; run says the file system is read-only', { skip: !asRoot && 'needs root to mount' }, () => {
    const { ws } = recordedWorkspace();
    const ro = mkdtempSync(join(tmpdir(), 'runboard-ro-'));
    execFileSync('mount', ['--bind', ws, ro]);
    after(() => {
      execFileSync('umount', [ro]);
      rmdirSync(ro);
    });
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);

    assert.match(firstRunName(cli(['runs', '--json'], { cwd: ro }))!, /^run-1-x/);
    assert.equal(json(cli(['show', '1', '--json'], { cwd: ro })).metrics.loss.last, 0.25);
    assert.deepEqual(json(cli(['metrics', '1', 'loss', '--json'], { cwd: ro })).points.map((p: { value: number }) => p.value), [0.5, 0.25]);
    const refused = cli(['run', '--', 'python3', '-c', 'print(1)'], { cwd: ro });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^runboard run: \S+runboard\.db is on a read-only file system \(EROFS\): nothing can be recorded in this database\. .*--db FILE or set RUNBOARD_DB\.\n$/);
    // A listing is a read: it answers, and says the liveness check (a write) was skipped.
    const listed = cli(['deployments', '--json'], { cwd: ro });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(json(listed), []);
    assert.match(listed.stderr, /^runboard: warning: \S+runboard\.db is on a read-only file system \(EROFS\).*not checked\.\n$/);
  });

  it('as a user without write access: reads work, run names the folder it cannot write', { skip: !asRoot && 'needs root to switch user' }, () => {
    const { ws } = recordedWorkspace();
    chmodSync(ws, 0o755); // nobody may enter, not write
    assert.match(firstRunName(cliAsNobody(['runs', '--json'], ws))!, /^run-1-x/);
    assert.equal(json(cliAsNobody(['show', '1', '--json'], ws)).metrics.loss.count, 2);
    const refused = cliAsNobody(['run', '--', 'python3', '-c', 'print(1)'], ws);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^runboard run: \S+\/\.runboard is not writable for this user \(EACCES\): nothing can be recorded/);
  });
});

describe('a database with a damaged page', () => {
  it('is reported as corrupt, naming the backup to restore, in one line', () => {
    const { ws, dbPath } = recordedWorkspace(300);
    copyFileSync(dbPath, `${dbPath}.bak-v1`);
    const raw = new Database(dbPath, { readonly: true });
    const root = raw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").pluck().get() as number;
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    raw.close();
    const fd = openSync(dbPath, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize);
    closeSync(fd);

    const listed = cli(['runs'], { cwd: ws });
    assert.equal(listed.code, 74);
    assert.equal(
      listed.stderr,
      `runboard runs: ${dbPath} is damaged (SQLITE_CORRUPT: a page of the file is corrupt). Move it away and restore the backup ${dbPath}.bak-v1 (it holds what was recorded before its schema upgrade).\n`,
    );
    mkdirSync(join(ws, 'elsewhere'));
    const explicit = cli(['runs', '--db', dbPath], { cwd: join(ws, 'elsewhere') });
    assert.match(explicit.stderr, /is damaged \(SQLITE_CORRUPT/);
  });
});
