import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { buildRun, tempDir } from './helpers.ts';

/** A workspace whose database holds four runs with params and metrics, recorded through the store. */
function workspace() {
  const ws = tempDir();
  const db = join(ws, '.runboard', 'runboard.db');
  const store = Store.open(db);
  const runs = {
    small: buildRun(store, { experiment: 'mnist', name: 'small-lr', params: { lr: 0.001, opt: 'adam' }, series: { accuracy: [0.5, 0.88] } }),
    base: buildRun(store, { experiment: 'mnist', name: 'baseline', params: { lr: 0.1, opt: 'adam' }, series: { accuracy: [0.6, 0.93] } }),
    sgd: buildRun(store, { experiment: 'mnist', name: 'sgd', params: { lr: 0.1, opt: 'sgd' }, series: { accuracy: [0.4, 0.95] } }),
    none: buildRun(store, { experiment: 'cifar', name: 'no-metrics', params: { lr: 0.01 } }),
  };
  store.close();
  const runsOf = (...args: string[]) => {
    const result = cli(['runs', '--db', db, ...args, '--json'], { cwd: ws });
    assert.equal(result.code, 0, result.stderr);
    return json<{ id: number; metric?: { key: string; value: number | null } }[]>(result);
  };
  return { ws, db, runs, ids: (...args: string[]) => runsOf(...args).map((r) => r.id), runsOf };
}

test('runs --param and --metric filter (repeated flags all hold), --name matches a part of the name', () => {
  const { runs, ids } = workspace();
  assert.deepEqual(ids('--param', 'lr=0.1'), [runs.sgd.id, runs.base.id]);
  assert.deepEqual(ids('--param', 'lr<0.1'), [runs.none.id, runs.small.id]);
  assert.deepEqual(ids('--param', 'lr=0.1', '--param', 'opt=adam'), [runs.base.id]);
  assert.deepEqual(ids('--metric', 'accuracy>=0.9'), [runs.sgd.id, runs.base.id]);
  assert.deepEqual(ids('--metric', 'accuracy>=0.9', '--param', 'opt=adam'), [runs.base.id]);
  assert.deepEqual(ids('--name', 'line'), [runs.base.id]);
  assert.deepEqual(ids('--experiment', 'mnist', '--param', 'opt!=adam'), [runs.sgd.id]);
});

test('runs --sort: a trailing :desc for descending, metric:K and param:K; runs without the key last', () => {
  const { runs, ids, runsOf } = workspace();
  assert.deepEqual(ids(), [runs.none.id, runs.sgd.id, runs.base.id, runs.small.id], 'newest first by default');
  assert.deepEqual(ids('--sort', 'created'), [runs.small.id, runs.base.id, runs.sgd.id, runs.none.id]);
  assert.deepEqual(ids('--sort', 'metric:accuracy:desc'), [runs.sgd.id, runs.base.id, runs.small.id, runs.none.id]);
  assert.deepEqual(ids('--sort', 'metric:accuracy'), [runs.small.id, runs.base.id, runs.sgd.id, runs.none.id]);
  assert.deepEqual(ids('--sort', 'name'), [runs.base.id, runs.none.id, runs.sgd.id, runs.small.id]);
  assert.deepEqual(ids('--sort', 'param:lr:desc', '--limit', '2'), [runs.sgd.id, runs.base.id]);
  assert.deepEqual(runsOf('--sort', 'metric:accuracy:desc').map((r) => r.metric), [
    { key: 'accuracy', value: 0.95 },
    { key: 'accuracy', value: 0.93 },
    { key: 'accuracy', value: 0.88 },
    { key: 'accuracy', value: null },
  ]);
});

test('runs shows the metric it sorts or filters by as a column', () => {
  const { ws, db } = workspace();
  const result = cli(['runs', '--db', db, '--metric', 'accuracy>0.9', '--sort', 'metric:accuracy:desc'], { cwd: ws });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED\s+ACCURACY\n/);
  assert.match(result.stdout, /sgd\s+mnist\s+queued\s+\S+\s+0\.95\n.*baseline\s+mnist\s+queued\s+\S+\s+0\.93\n$/s);
  assert.equal(cli(['runs', '--db', db, '--metric', 'accuracy>0.99'], { cwd: ws }).stdout.trim(), 'No run matches.');
});

test('runs: a bad expression is one line on stderr naming the bad part, with a non-zero exit', () => {
  const { ws, db } = workspace();
  const bad = (args: string[], message: RegExp) => {
    const result = cli(['runs', '--db', db, ...args], { cwd: ws });
    assert.equal(result.code, 2, result.stdout);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\bat \S+:\d+/, 'no stack trace');
  };
  bad(['--param', 'lr'], /runboard runs: Cannot read --param "lr": write it like lr=0.1/);
  bad(['--param', 'opt<adam'], /"adam" is not a number, and < compares numbers/);
  bad(['--metric', 'accuracy>=high'], /--metric "accuracy>=high": "high" is not a number/);
  bad(['--sort', 'speed'], /Cannot read --sort "speed"/);
  bad(['--sort', 'metric'], /name the metric, as in metric:NAME/);
  bad(['--limit', 'ten'], /--limit "ten" is not a positive whole number/);
});

test('runs --filter reads the filter grammar and combines with --param, --metric, --name and --sort', () => {
  const { runs, ids, runsOf } = workspace();
  assert.deepEqual(ids('--filter', 'params.lr < 0.1 and metrics.accuracy >= 0.5'), [runs.small.id]);
  assert.deepEqual(ids('--filter', "params.opt = 'adam'", '--metric', 'accuracy>=0.9'), [runs.base.id]);
  assert.deepEqual(ids('--filter', 'metrics.accuracy > 0.9', '--sort', 'metric:accuracy'), [runs.base.id, runs.sgd.id]);
  assert.deepEqual(ids('--filter', 'experiment = mnist', '--name', 'gd', '--param', 'lr=0.1'), [runs.sgd.id]);
  assert.deepEqual(ids('--filter', 'metrics.accuracy IS NULL'), [runs.none.id]);
  assert.deepEqual(
    runsOf('--filter', 'metrics.accuracy >= 0.93').map((r) => r.metric),
    [
      { key: 'accuracy', value: 0.95 },
      { key: 'accuracy', value: 0.93 },
    ],
    'the metric filtered on is shown',
  );
});

test('runs --filter: a syntax error is one line with a caret where it is, exit 2, and no database is made', () => {
  const ws = tempDir();
  const result = cli(['runs', '--db', join(ws, 'none.db'), '--filter', 'params.lr <  and status = finished'], { cwd: ws });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    'runboard runs: Cannot read --filter at column 14: expected a value after < (a number, \'text\' or a word), found "and": params.lr < ^and status = finished\n',
  );
  assert.equal(existsSync(join(ws, 'none.db')), false);
  const help = cli(['runs', '--help'], { cwd: ws });
  assert.match(help.stdout, /--filter takes MLflow's search filter/);
});
