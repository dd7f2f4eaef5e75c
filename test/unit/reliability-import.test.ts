import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LAUNCHER_TAG } from '../../src/core/launch/lifecycle.ts';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';

/** A workspace whose database holds one finished run, and a client folder `imp/` with `run.json` as given. */
function workspace(runJson: Record<string, unknown> = { name: 'nb', started: Date.now() - 60_000, ended: Date.now(), status: 'finished' }) {
  const ws = tempDir();
  const dbPath = join(ws, '.runboard', 'runboard.db');
  const store = Store.open(dbPath);
  const run = store.createRun({ name: 'good', command: ['python3', 'train.py'], runDir: join(ws, '.runboard', 'runs', '1') });
  store.markEnded(run.id, { status: 'finished' });
  store.close();
  mkdirSync(join(ws, '.runboard', 'runs', '1'), { recursive: true });
  writeFileSync(join(ws, '.runboard', 'runs', '1', 'stdout.log'), 'loss=0.5\n');
  const imp = join(ws, 'imp');
  mkdirSync(imp);
  writeFileSync(join(imp, 'run.json'), JSON.stringify(runJson));
  writeFileSync(join(imp, 'metrics.jsonl'), '{"step": 0, "wall": 1700000000000, "metrics": {"loss": 0.25}}\n');
  return { ws, dbPath, imp };
}

describe('import validates and bounds what it reads', () => {
  for (const [what, runJson, message] of [
    ['a start no Date can hold', { started: 8.7e15, ended: 8.7e15 }, /"started" is 8700000000000000, not a time in milliseconds since 1970/],
    ['a start in seconds', { started: 1_700_000_000, ended: 1_700_000_060 }, /"started" is 1700000000, not a time/],
    ['an end before the start', { started: 1_700_000_060_000, ended: 1_700_000_000_000 }, /"ended" \(1700000000000\) is before "started"/],
  ] as const) {
    it(`refuses ${what} in one line and imports nothing`, () => {
      const { ws } = workspace(runJson);
      const result = cli(['import', 'imp'], { cwd: ws });
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1);
      assert.deepEqual(json(cli(['runs', '--json'], { cwd: ws })).map((r: { name: string }) => r.name), ['good']);
    });
  }

  it('refuses a run.json or artifacts.jsonl that is a link to /dev/zero, or a FIFO, at once', () => {
    const { ws, imp } = workspace();
    execFileSync('mv', [join(imp, 'run.json'), join(imp, 'run.json.real')]);
    symlinkSync('/dev/zero', join(imp, 'run.json'));
    const zero = cli(['import', 'imp'], { cwd: ws });
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /run\.json is not a regular file; it was not read/);

    execFileSync('rm', [join(imp, 'run.json')]);
    execFileSync('mkfifo', [join(imp, 'run.json')]);
    const fifo = cli(['import', 'imp'], { cwd: ws });
    assert.equal(fifo.code, 2, 'answers instead of waiting for a writer');
    assert.match(fifo.stderr, /run\.json is not a regular file/);

    execFileSync('rm', [join(imp, 'run.json')]);
    execFileSync('mv', [join(imp, 'run.json.real'), join(imp, 'run.json')]);
    symlinkSync('/dev/zero', join(imp, 'artifacts.jsonl'));
    const kinds = cli(['import', 'imp'], { cwd: ws });
    assert.equal(kinds.code, 2);
    assert.match(kinds.stderr, /artifacts\.jsonl is not a regular file/);
    assert.deepEqual(json(cli(['runs', '--json'], { cwd: ws })).map((r: { name: string }) => r.name), ['good']);
  });

  it('a run recorded with impossible times never breaks runs, show or metrics', () => {
    const { ws, dbPath } = workspace();
    const store = Store.open(dbPath);
    const bad = store.createRun({ name: 'bad' });
    store.logMetrics(bad.id, [{ key: 'loss', step: 0, value: 1, wall: 8.7e15 }]);
    store.markEnded(bad.id, { status: 'finished' });
    store.setRunTimes(bad.id, { startedAt: 8.7e15, endedAt: -8.7e15 });
    store.close();
    const listed = cli(['runs'], { cwd: ws });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /bad/);
    const rows = json(cli(['runs', '--json'], { cwd: ws }));
    assert.deepEqual(rows.map((r: { name: string; startedAt: unknown; endedAt: unknown }) => [r.name, r.startedAt, r.endedAt === null]), [['bad', null, true], ['good', null, false]]);
    const shown = json(cli(['show', 'bad', '--json'], { cwd: ws }));
    assert.deepEqual([shown.startedAt, shown.endedAt], [null, null]);
    assert.equal(cli(['show', 'bad'], { cwd: ws }).code, 0);
    const series = cli(['metrics', 'bad', 'loss'], { cwd: ws });
    assert.equal(series.code, 0, series.stderr);
  });
});

describe('runboard delete', () => {
  it('without --yes only says what it would delete; with --yes removes the runs and their folders', () => {
    const { ws } = workspace();
    assert.equal(cli(['import', 'imp'], { cwd: ws }).code, 0);
    const dry = cli(['delete', 'good', '2'], { cwd: ws });
    assert.equal(dry.code, 1);
    assert.match(dry.stdout, /^would delete run 1 \(good, finished\) and its folder .*runs\/1\nwould delete run 2 \(nb, finished\) and its folder .*imp\n$/);
    assert.match(dry.stderr, /nothing deleted; add --yes/);
    assert.equal(json(cli(['runs', '--json'], { cwd: ws })).length, 2);

    const done = cli(['delete', 'good', '2', '--yes'], { cwd: ws });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /deleted run 1 \(good\) and its folder .*runs\/1\n/);
    assert.match(done.stderr, /deleted run 2 \(nb\); kept its folder .*imp: it is not in .*\.runboard\/runs/);
    assert.deepEqual(json(cli(['runs', '--json'], { cwd: ws })), []);
    assert.equal(existsSync(join(ws, '.runboard', 'runs', '1')), false);
    assert.ok(existsSync(join(ws, 'imp', 'run.json')), 'a folder outside .runboard/runs is the user\'s');
    assert.equal(cli(['import', 'imp'], { cwd: ws }).code, 0, 'a deleted import can be imported again');
  });

  it('refuses a running run, and deletes nothing of the others given with it', () => {
    const { ws, dbPath } = workspace();
    const store = Store.open(dbPath);
    const live = store.createRun({ name: 'live', status: 'running' });
    store.setTags(live.id, { [LAUNCHER_TAG]: String(process.pid) }); // its launcher (this test) is alive
    store.close();
    const refused = cli(['delete', 'good', 'live', '--yes'], { cwd: ws });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /Stop run 2 \(live, running\) before deleting it; nothing was deleted/);
    assert.equal(json(cli(['runs', '--json'], { cwd: ws })).length, 2);
    assert.ok(existsSync(join(ws, '.runboard', 'runs', '1', 'stdout.log')));
  });

  it('never follows a symlink out of .runboard/runs', () => {
    const { ws, dbPath } = workspace();
    const outside = tempDir();
    writeFileSync(join(outside, 'precious.txt'), 'keep me');
    mkdirSync(join(outside, 'inner'));
    writeFileSync(join(outside, 'inner', 'precious.txt'), 'keep me too');
    symlinkSync(outside, join(ws, '.runboard', 'runs', '2'));
    mkdirSync(join(ws, '.runboard', 'runs', '3'));
    symlinkSync(join(outside, 'inner'), join(ws, '.runboard', 'runs', '3', 'linked'));
    const store = Store.open(dbPath);
    for (const name of ['linked-folder', 'link-inside']) {
      const run = store.createRun({ name, runDir: join(ws, '.runboard', 'runs', String(store.runs().length + 1)) });
      store.markEnded(run.id, { status: 'finished' });
    }
    store.close();
    const done = cli(['delete', 'linked-folder', 'link-inside', '--yes'], { cwd: ws });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /deleted run 2 \(linked-folder\); kept its folder .*runs\/2: .*runs\/2 is a symbolic link/);
    assert.match(done.stderr, /deleted run 3 \(link-inside\) and its folder/);
    assert.deepEqual(readdirSync(outside).sort(), ['inner', 'precious.txt']);
    assert.deepEqual(readdirSync(join(outside, 'inner')), ['precious.txt']);
    assert.equal(existsSync(join(ws, '.runboard', 'runs', '3')), false);
  });
});
