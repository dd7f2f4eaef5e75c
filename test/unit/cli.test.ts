import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pythonDir } from '../../src/core/paths.ts';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';

const TRAIN = `
import sys
print("training with", sys.argv[1:])
print("warning: this goes to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
`;

test('run records status, exit code, params and log files, and exits with the command\'s code', () => {
  const ws = tempDir();
  writeFileSync(join(ws, 'train.py'), TRAIN);
  const ok = cli(['run', '--experiment', 'demo', '--name', 'first', '--param', 'lr=0.01', '--param', 'opt=adam', '--', 'python3', 'train.py', '0'], { cwd: ws });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /training with \['0'\]/, 'the command output is passed through');
  assert.match(ok.stderr, /run 1 \(first\) started/, 'the run id is printed on stderr');

  const failed = cli(['run', '--', 'python3', 'train.py', '3'], { cwd: ws });
  assert.equal(failed.code, 3);

  const shown = json(cli(['show', '1', '--json'], { cwd: ws }));
  assert.equal(shown.id, 1);
  assert.equal(shown.name, 'first');
  assert.equal(shown.experiment, 'demo');
  assert.equal(shown.status, 'finished');
  assert.equal(shown.exitCode, 0);
  assert.deepEqual(shown.command, ['python3', 'train.py', '0']);
  assert.equal(shown.cwd, ws);
  assert.deepEqual(shown.params, { lr: '0.01', opt: 'adam' });
  assert.ok(Date.parse(shown.startedAt) <= Date.parse(shown.endedAt));
  for (const key of ['signal', 'metrics', 'artifacts', 'inputs', 'git', 'parent']) assert.ok(key in shown, `show --json has ${key}`);
  const runDir = join(ws, '.runboard', 'runs', '1');
  assert.match(readFileSync(join(runDir, 'stdout.log'), 'utf8'), /training with/);
  assert.match(readFileSync(join(runDir, 'stderr.log'), 'utf8'), /goes to stderr/);

  const second = json(cli(['show', '2', '--json'], { cwd: ws }));
  assert.equal(second.status, 'failed');
  assert.equal(second.exitCode, 3);

  const listed = json(cli(['runs', '--json'], { cwd: ws }));
  assert.deepEqual(listed.map((r: { id: number }) => r.id), [2, 1]);
  assert.deepEqual(json(cli(['runs', '--status', 'failed', '--json'], { cwd: ws })).map((r: { id: number }) => r.id), [2]);
  assert.match(cli(['runs'], { cwd: ws }).stdout, /first\s+demo\s+finished/);
});

test('a command that does not exist fails the run with a clear message', () => {
  const ws = tempDir();
  const result = cli(['run', '--', 'no-such-trainer-xyz', '--epochs', '3'], { cwd: ws });
  assert.equal(result.code, 127);
  assert.match(result.stderr, /Command not found: no-such-trainer-xyz/);
  const shown = json(cli(['show', '1', '--json'], { cwd: ws }));
  assert.equal(shown.status, 'failed');
  assert.match(shown.error, /Command not found/);
});

test('runs are found from a subfolder, and --db / RUNBOARD_DB override the location', () => {
  const ws = tempDir();
  assert.equal(cli(['run', '--', 'python3', '-c', 'pass'], { cwd: ws }).code, 0);
  const sub = join(ws, 'src', 'deep');
  cli(['run', '--db', join(ws, 'other.db'), '--', 'python3', '-c', 'pass'], { cwd: ws });
  assert.ok(existsSync(join(ws, 'other.db')));
  mkdirSync(sub, { recursive: true });
  assert.equal(json(cli(['runs', '--json'], { cwd: sub })).length, 1, 'the nearest .runboard/runboard.db above cwd');
  assert.equal(json(cli(['runs', '--json'], { cwd: sub, env: { RUNBOARD_DB: join(ws, 'other.db') } })).length, 1);
});

/** A workspace whose database already holds three runs with metrics, written through the Store. */
function seeded() {
  const ws = tempDir();
  const db = join(ws, '.runboard', 'runboard.db');
  const store = Store.open(db);
  const runs = [0.1, 0.01, 0.01].map((lr, i) => {
    const run = store.createRun({ experiment: 'sweep', name: `r${i}`, params: { lr, seed: i === 2 ? 1 : 0, epochs: 10 } });
    store.logMetrics(
      run.id,
      Array.from({ length: 1000 }, (_, step) => ({ key: 'acc', step, value: [0.3, 0.6, 0.9][i]! * (step / 999), wall: 1e12 + step })),
    );
    store.logMetrics(run.id, [{ key: 'loss', step: 0, value: NaN }, { key: 'loss', step: 1, value: 0.25 }]);
    store.markStarted(run.id, null);
    store.markEnded(run.id, { status: 'finished', exitCode: 0 });
    return run;
  });
  store.close();
  return { ws, runs };
}

test('show reports metric summaries with NaN kept as a string in JSON', () => {
  const { ws } = seeded();
  const shown = json(cli(['show', 'r1', '--json'], { cwd: ws }));
  assert.deepEqual(shown.metrics.acc, { last: 0.6, min: 0, max: 0.6, count: 1000, lastStep: 999, nonfinite: 0, replaced: 0 });
  assert.deepEqual(shown.metrics.loss, { last: 0.25, min: 0.25, max: 0.25, count: 2, lastStep: 1, nonfinite: 1, replaced: 0 });
  const text = cli(['show', 'r1'], { cwd: ws }).stdout;
  assert.match(text, /acc\s+0\.6\s+0\s+0\.6\s+1000\s+999/);
});

test('metrics prints the raw series or a min/max envelope', () => {
  const { ws, runs } = seeded();
  const raw = json(cli(['metrics', String(runs[0]!.id), 'loss', '--json'], { cwd: ws }));
  assert.deepEqual(raw.points.map((p: { value: unknown }) => p.value), ['NaN', 0.25]);
  const env = json(cli(['metrics', 'r2', 'acc', '--buckets', '10', '--json'], { cwd: ws }));
  assert.ok(env.buckets.length <= 10 && env.buckets.length >= 5, `${env.buckets.length} buckets`);
  assert.equal(env.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0), 1000);
  assert.equal(env.buckets.at(-1).max, 0.9);
  const zoom = json(cli(['metrics', 'r2', 'acc', '--buckets', '1000', '--from', '10', '--to', '19', '--json'], { cwd: ws }));
  assert.deepEqual(zoom.buckets.map((b: { start: number }) => b.start), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const missing = cli(['metrics', 'r2', 'f1'], { cwd: ws });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no metric "f1" \(it has: acc, loss\)/);
});

test('compare lists only the params that differ, and metrics side by side', () => {
  const { ws } = seeded();
  const result = json(cli(['compare', 'r0', 'r1', 'r2', '--json'], { cwd: ws }));
  assert.deepEqual(result.differingParams, ['lr', 'seed']);
  assert.deepEqual(result.metrics.acc.map((m: { last: number }) => m.last), [0.3, 0.6, 0.9]);
  const text = cli(['compare', 'r0', 'r1'], { cwd: ws }).stdout;
  assert.match(text, /param lr\s+0\.1\s+0\.01/);
  assert.doesNotMatch(text, /param epochs/);
});

test('check is a quality gate: exit 0 when all conditions hold, 1 with the reason otherwise', () => {
  const { ws } = seeded();
  const pass = cli(['check', 'r2', '--metric', 'acc>=0.9', '--metric', 'max(acc)<=0.9'], { cwd: ws });
  assert.equal(pass.code, 0, pass.stderr);
  // Its loss series holds a NaN: min() and max() over it never pass.
  assert.equal(cli(['check', 'r2', '--metric', 'min(loss)<=0.3'], { cwd: ws }).code, 1);
  const fail = cli(['check', 'r0', '--metric', 'acc>=0.9', '--metric', 'loss<1'], { cwd: ws });
  assert.equal(fail.code, 1);
  assert.match(fail.stderr, /FAIL\s+acc>=0\.9: acc is 0\.3, which fails >= 0\.9/);
  assert.match(fail.stdout, /pass\s+loss<1/);
  const unknown = cli(['check', 'r0', '--metric', 'f1>0.5'], { cwd: ws });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no metric "f1"/);
});

const RESTARTED = `
import json, runboard
runboard.set_tags({"toString": "x"})
# A loop restarted twice: steps 0..4 printed three times, the last values 200..204.
for offset in (0, 100, 200):
    for step in range(5):
        print(json.dumps({"step": step, "__proto__": offset + step}))
`;

test('restarted steps and names like __proto__, constructor and toString: show, compare, check and metrics report them exactly', () => {
  const ws = tempDir();
  writeFileSync(join(ws, 'train.py'), RESTARTED);
  const env = { PYTHONPATH: pythonDir() };
  const ran = cli(['run', '--name', 'hostile', '--param', 'constructor=3', '--', 'python3', 'train.py'], { cwd: ws, env });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(cli(['run', '--name', 'plain', '--', 'python3', '-c', 'pass'], { cwd: ws }).code, 0);

  const shown = json(cli(['show', 'hostile', '--json'], { cwd: ws }));
  assert.deepEqual(Object.keys(shown.metrics), ['__proto__']);
  assert.deepEqual(shown.metrics['__proto__'], { last: 204, min: 200, max: 204, count: 5, lastStep: 4, nonfinite: 0, replaced: 10 });
  assert.equal(shown.params.constructor, '3');
  assert.ok(Object.hasOwn(shown.tags, 'toString') && shown.tags.toString === 'x', JSON.stringify(shown.tags));
  const text = cli(['show', 'hostile'], { cwd: ws }).stdout;
  assert.match(text, /KEY\s+LAST\s+MIN\s+MAX\s+COUNT\s+STEP\s+REPLACED/);
  assert.match(text, /__proto__\s+204\s+200\s+204\s+5\s+4\s+10/);
  assert.match(text, /constructor = 3/);

  const compared = json(cli(['compare', 'hostile', 'plain', '--json'], { cwd: ws }));
  assert.deepEqual(compared.differingParams, ['constructor']);
  assert.deepEqual(Object.keys(compared.metrics), ['__proto__']);
  assert.deepEqual(compared.metrics['__proto__'].map((m: { last: number; replaced: number } | null) => m && [m.last, m.replaced]), [[204, 10], null]);
  const compareText = cli(['compare', 'hostile', 'plain'], { cwd: ws }).stdout;
  assert.match(compareText, /param constructor\s+3\s+—/);
  assert.match(compareText, /^__proto__ \(last\)\s+204\s*$/m);

  assert.equal(cli(['check', 'hostile', '--metric', '__proto__>=204'], { cwd: ws }).code, 0);
  const low = cli(['check', 'hostile', '--metric', '__proto__>4'], { cwd: ws });
  assert.equal(low.code, 0, 'the last value printed (204), not the first (4)');
  for (const [run, metric] of [['plain', '__proto__'], ['hostile', 'constructor'], ['hostile', 'toString']]) {
    const missing = cli(['check', run!, '--metric', `${metric}>=0`], { cwd: ws });
    assert.equal(missing.code, 1, `${run} ${metric}`);
    assert.match(missing.stderr, new RegExp(`the run has no metric "${metric}"`));
  }
  assert.deepEqual(json(cli(['metrics', 'hostile', '__proto__', '--json'], { cwd: ws })).points.map((p: { value: number }) => p.value), [200, 201, 202, 203, 204]);
  const noSuch = cli(['metrics', 'hostile', 'toString'], { cwd: ws });
  assert.equal(noSuch.code, 2);
  assert.match(noSuch.stderr, /has no metric "toString" \(it has: __proto__\)/);
});

test('an envelope bucket holding NaN or ±Infinity says how many, and JSON writes them as strings everywhere', () => {
  const ws = tempDir();
  const store = Store.open(join(ws, '.runboard', 'runboard.db'));
  const run = store.createRun({ name: 'nan-loss' });
  const values = [0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09, Infinity, NaN, NaN, NaN, NaN, NaN, -Infinity];
  store.logMetrics(run.id, values.map((value, step) => ({ key: 'loss', step, value })));
  store.close();
  const env = json(cli(['metrics', 'nan-loss', 'loss', '--buckets', '3', '--json'], { cwd: ws }));
  assert.deepEqual(env.buckets.map((b: { nonfinite: number }) => b.nonfinite), [0, 3, 4]);
  assert.equal(env.buckets[1].max, 0.1, 'min and max stay over finite values');
  const text = cli(['metrics', 'nan-loss', 'loss', '--buckets', '3'], { cwd: ws }).stdout.split('\n');
  assert.match(text[0]!, /COUNT\s+NONFINITE$/);
  assert.match(text[2]!, /\s5\s+3$/, text.join('\n'));
  const points = json(cli(['metrics', 'nan-loss', 'loss', '--json'], { cwd: ws })).points.map((p: { value: unknown }) => p.value);
  assert.deepEqual(points.slice(6), [0.09, 'Infinity', 'NaN', 'NaN', 'NaN', 'NaN', 'NaN', '-Infinity']);
  assert.equal(json(cli(['show', 'nan-loss', '--json'], { cwd: ws })).metrics.loss.last, '-Infinity');
});

test('user mistakes are one clear line on stderr, never a stack trace', () => {
  const { ws } = seeded();
  const cases: [string[], RegExp][] = [
    [['show', '999'], /No run "999"/],
    [['show'], /missing argument/],
    [['runs', '--bogus'], /Unknown option '--bogus'/],
    [['runs', '--status', 'done'], /Unknown status "done"/],
    [['check', 'r0', '--metric', 'acc >= high'], /Cannot read the condition "acc >= high"/],
    [['metrics', 'r0', 'acc', '--buckets', 'ten'], /--buckets takes a number/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run', '--param', 'novalue', '--', 'python3', '-c', 'pass'], /--param takes key=value/],
  ];
  for (const [args, message] of cases) {
    const result = cli(args, { cwd: ws });
    assert.notEqual(result.code, 0, args.join(' '));
    assert.match(result.stderr, message, args.join(' '));
    assert.doesNotMatch(result.stderr, /\n\s+at /, `no stack trace for ${args.join(' ')}`);
  }
  const empty = tempDir();
  assert.match(cli(['runs'], { cwd: empty }).stderr, /No Runboard database/);
});

test('a database from a newer Runboard is refused by the CLI with a clear message', async () => {
  const { ws } = seeded();
  const { default: Database } = await import('better-sqlite3');
  const raw = new Database(join(ws, '.runboard', 'runboard.db'));
  raw.pragma('user_version = 42');
  raw.close();
  const result = cli(['runs'], { cwd: ws });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /written by a newer Runboard \(schema 42/);
});

test('import loads a folder the Python client made outside a run, once', () => {
  const ws = tempDir();
  const script = 'import runboard\nrunboard.log_params({"lr": 0.5})\nfor i in range(3):\n    runboard.log(loss=1.0 / (i + 1))\n';
  writeFileSync(join(ws, 'notebook.py'), script);
  const made = spawnSync('python3', ['notebook.py'], { cwd: ws, env: { ...process.env, PYTHONPATH: pythonDir(), RUNBOARD_RUN_DIR: '' }, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const [dir] = readdirSync(join(ws, '.runboard', 'runs'));
  const folder = join('.runboard', 'runs', dir!);
  const [run] = json(cli(['import', folder, '--experiment', 'notebooks', '--json'], { cwd: ws }));
  assert.equal(run.experiment, 'notebooks');
  assert.equal(run.status, 'finished');
  assert.deepEqual(run.params, { lr: '0.5' });
  assert.deepEqual(run.metrics.loss, { last: 1 / 3, min: 1 / 3, max: 1, count: 3, lastStep: 2, nonfinite: 0, replaced: 0 });
  const again = cli(['import', folder], { cwd: ws });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already imported/);
});

test('a re-run names the run it repeats as its parent; filters that match nothing say so', () => {
  const ws = tempDir();
  assert.equal(cli(['run', '--name', 'original', '--', 'python3', '-c', 'print("loss=0.5")'], { cwd: ws }).code, 0);
  assert.equal(cli(['rerun', 'original'], { cwd: ws }).code, 0);
  assert.equal(json(cli(['show', '2', '--json'], { cwd: ws })).parent, 1);
  assert.equal(json(cli(['show', '1', '--json'], { cwd: ws })).parent, null);
  assert.match(cli(['runs', '--experiment', 'nope'], { cwd: ws }).stdout, /No run matches/);
});
