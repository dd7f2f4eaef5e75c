import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { directionsFor, guessDirection } from '../../src/core/compare/direction.ts';
import { toCsv } from '../../src/core/compare/csv.ts';
import { buildTable, compareState, defaultMetrics, isStepLike, loadRuns, snapshot, tableCsv, varyingParams } from '../../src/core/compare/table.ts';
import { gateMetrics } from '../../src/core/compare/gateMetrics.ts';
import { describeNonFinite } from '../../src/core/compare/constants.ts';
import { buildRun, tempStore } from './helpers.ts';

test('direction: guessed from the name, overridable', () => {
  for (const m of ['loss', 'val_loss', 'train/Loss', 'error_rate', 'mse', 'val_mae', 'rmse', 'perplexity']) assert.equal(guessDirection(m), 'min', m);
  for (const m of ['accuracy', 'f1', 'auc', 'reward', 'lr']) assert.equal(guessDirection(m), 'max', m);
  assert.deepEqual(directionsFor(['loss', 'acc', 'lr'], { lr: 'min', acc: 'bogus' as 'min' }), { loss: 'min', acc: 'max', lr: 'min' });
});

test('table: params (differing first), last and best per metric, best runs per column', () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: 'a', params: { lr: 0.1, opt: 'adam', seed: 1 }, series: { loss: [3, 1, 2], acc: [0.1, 0.5, 0.9] } });
  const b = buildRun(store, { name: 'b', params: { lr: 0.01, opt: 'adam', seed: 1 }, series: { loss: [3, 0.5, 2], acc: [0.2, 0.95, 0.8] } });
  const c = buildRun(store, { name: 'c', params: { lr: 0.001, opt: 'adam' }, series: { loss: [4, 3, 2.5] } });
  for (const r of [a, b, c]) store.markEnded(r.id, { status: 'finished' });
  const runs = loadRuns(store, [a.id, b.id, c.id, a.id, 9999]);
  assert.deepEqual(runs.map((r) => r.id), [a.id, b.id, c.id], 'missing ids and duplicates are dropped');
  const snaps = snapshot(store, runs);
  const state = compareState(snaps);
  assert.deepEqual(state.metrics, ['acc', 'loss']);
  assert.deepEqual(state.differingParams, ['lr', 'seed']);
  assert.deepEqual(state.directions, { acc: 'max', loss: 'min' });
  assert.equal(state.live, false);

  const table = buildTable(snaps, state.directions);
  const ids = table.columns.map((c) => c.id);
  assert.deepEqual(ids, [
    'run.id', 'run.name', 'run.status', 'run.experiment',
    'param.lr', 'param.seed', 'param.opt',
    'metric.last.acc', 'metric.best.acc', 'metric.last.loss', 'metric.best.loss',
  ]);
  const col = (id: string) => table.columns.find((c) => c.id === id)!;
  const cell = (runId: number, id: string) => table.rows.find((r) => r.runId === runId)!.cells[ids.indexOf(id)];
  assert.equal(col('param.lr').differing, true);
  assert.equal(col('param.lr').numeric, true);
  assert.equal(col('param.opt').differing, false);
  assert.equal(cell(a.id, 'param.lr'), '0.1');
  assert.equal(cell(c.id, 'param.seed'), null);
  assert.equal(cell(b.id, 'metric.best.loss'), 0.5);
  assert.equal(cell(a.id, 'metric.last.loss'), 2);
  assert.equal(cell(c.id, 'metric.last.acc'), null);
  assert.deepEqual(col('metric.best.loss').best, [b.id]);
  assert.deepEqual(col('metric.last.loss').best, [a.id, b.id], 'ties all count');
  assert.deepEqual(col('metric.last.acc').best, [a.id]);
  assert.deepEqual(col('metric.best.acc').best, [b.id]);
  assert.equal(col('metric.best.loss').direction, 'min');

  // Overriding the direction flips which run is best.
  const flipped = buildTable(snaps, directionsFor(state.metrics, { loss: 'max' }));
  assert.deepEqual(flipped.columns.find((c) => c.id === 'metric.best.loss')!.best, [c.id]);

  const csv = tableCsv(table).split('\r\n');
  assert.equal(csv[0], 'id,name,status,experiment,param:lr,param:seed,param:opt,acc:last,acc:best,loss:last,loss:best');
  assert.equal(csv[1], `${a.id},a,finished,Default,0.1,1,adam,0.9,0.9,2,1`);
});

test('table: NaN and Infinity stay visible as text and are never best', () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: 'diverged', series: { loss: [1, NaN] } });
  const b = buildRun(store, { name: 'ok', series: { loss: [2, 1.5] } });
  const snaps = snapshot(store, loadRuns(store, [a.id, b.id]));
  const table = buildTable(snaps, { loss: 'min' });
  const i = table.columns.findIndex((c) => c.id === 'metric.last.loss');
  assert.equal(table.rows[0]!.cells[i], 'NaN');
  assert.deepEqual(table.columns[i]!.best, [b.id]);
  assert.doesNotThrow(() => JSON.stringify(table));
});

test('names like __proto__ and constructor are metrics and params like any other; replaced points are counted per run', () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: 'a', params: { constructor: 'x' }, series: { ['__proto__']: [1, 2] } });
  store.logMetrics(a.id, [{ key: '__proto__', step: 0, value: 5 }]);
  const b = buildRun(store, { name: 'b', series: { toString: [3] } });
  const snaps = snapshot(store, loadRuns(store, [a.id, b.id]));
  const state = compareState(snaps, { ['__proto__']: 'min' });
  assert.deepEqual(state.metrics, ['__proto__', 'toString']);
  assert.deepEqual(state.differingParams, ['constructor']);
  assert.equal(Object.hasOwn(state.directions, '__proto__') && state.directions['__proto__'], 'min');
  assert.deepEqual(state.runs.map((r) => r.replaced), [{ ['__proto__']: 1 }, {}]);
  const table = buildTable(snaps, state.directions);
  const cell = (run: number, id: string) => table.rows[run]!.cells[table.columns.findIndex((c) => c.id === id)];
  assert.equal(cell(1, 'param.constructor'), null, 'b has no param constructor');
  assert.equal(cell(0, 'metric.last.__proto__'), 2);
  assert.equal(cell(1, 'metric.last.toString'), 3);
  assert.equal(cell(0, 'metric.last.toString'), null);
});

test('defaultMetrics: gate metrics, then validation, then loss-like and accuracy-like; never step-like counters; at most four', () => {
  assert.deepEqual(defaultMetrics(['a', 'acc', 'epoch', 'global_step', 'loss', 'lr', 'val_loss', 'z']), ['val_loss', 'loss', 'acc', 'a']);
  const logged = ['accuracy', 'epoch', 'loss', 'train_loss', 'val_accuracy', 'val_loss'];
  assert.deepEqual(defaultMetrics(logged), ['val_loss', 'val_accuracy', 'loss', 'train_loss']);
  assert.deepEqual(defaultMetrics(logged, ['accuracy']), ['accuracy', 'val_loss', 'val_accuracy', 'loss']);
});

test('step-like keys are counters, not results', () => {
  for (const m of ['epoch', 'step', 'global_step', 'iteration', 'iter', 'trainer/global_step', 'epochs', 'batch_idx']) assert.equal(isStepLike(m), true, m);
  for (const m of ['loss', 'steps_per_second', 'epoch_loss', 'accuracy']) assert.equal(isStepLike(m), false, m);
});

test('varying params: a run lacking a param does not make it vary; 0.1 and 0.10 are one value', () => {
  assert.deepEqual(
    varyingParams([
      { lr: '0.1', arch: 'mlp', seed: '1' },
      { lr: '0.3', arch: 'mlp', seed: '1.0' },
      { lr: '0.10' },
    ]),
    ['lr'],
  );
});

test('best: never a failed, crashed or killed run, never a step-like column; non-finite points found', () => {
  const { store } = tempStore();
  const good = buildRun(store, { name: 'good', series: { loss: [2, 1], epoch: [0, 1] } });
  const crashed = buildRun(store, { name: 'crashed', series: { loss: [2, 0.1], epoch: [0, 5] } });
  const diverged = buildRun(store, { name: 'diverged', series: { loss: [2, 1.5, NaN, Infinity] } });
  store.markEnded(good.id, { status: 'finished' });
  store.markEnded(crashed.id, { status: 'crashed' });
  store.markEnded(diverged.id, { status: 'finished' });
  const snaps = snapshot(store, loadRuns(store, [good.id, crashed.id, diverged.id]));
  const table = buildTable(snaps, { loss: 'min', epoch: 'max' });
  const best = (id: string) => table.columns.find((c) => c.id === id)!.best;
  assert.deepEqual(best('metric.best.loss'), [good.id]);
  assert.deepEqual(best('metric.last.loss'), [good.id]);
  assert.deepEqual(best('metric.last.epoch'), []);
  assert.equal(table.columns.some((c) => c.id === 'metric.best.epoch'), false, 'a counter has no "best" column');
  const state = compareState(snaps);
  const first = state.runs[2]!.nonfinite.loss!;
  assert.deepEqual(state.runs[2]!.nonfinite, { loss: { step: 2, value: 'NaN' } });
  assert.deepEqual(state.runs[0]!.nonfinite, {});
  assert.equal(describeNonFinite('loss', first), 'loss went NaN at step 2');
});

test('gate metrics: from the runs\' profiles, none when profiles.json is broken or absent', () => {
  const { workspace } = tempStore();
  mkdirSync(join(workspace, '.runboard'), { recursive: true });
  const file = join(workspace, '.runboard', 'profiles.json');
  assert.deepEqual(gateMetrics(workspace, ['train']), []);
  writeFileSync(file, JSON.stringify({ profiles: { train: { command: ['python3', 't.py'], gates: ['val_accuracy >= 0.9', 'min(loss) < 1'] }, other: { command: ['x'], gates: ['f1 > 0.5'] } } }));
  assert.deepEqual(gateMetrics(workspace, ['train', null]), ['val_accuracy', 'loss']);
  assert.deepEqual(gateMetrics(workspace, [null]), []);
  assert.deepEqual(gateMetrics(workspace), ['val_accuracy', 'loss', 'f1'], 'every profile when none is named');
  writeFileSync(file, '{ broken');
  assert.deepEqual(gateMetrics(workspace, ['train']), []);
});

test('csv: quoting, formulas defused, numbers and non-finite values', () => {
  assert.equal(toCsv([['a,b', 'say "hi"', 'line\nbreak'], ['=HYPERLINK("x")', '-0.5', -0.5], [null, NaN, Infinity]]),
    '"a,b","say ""hi""","line\nbreak"\r\n"\'=HYPERLINK(""x"")",-0.5,-0.5\r\n,NaN,Infinity\r\n');
  assert.equal(toCsv([['@SUM(A1)', '+1', '<img src=x onerror=alert(1)>']]), "'@SUM(A1),+1,<img src=x onerror=alert(1)>\r\n");
});
