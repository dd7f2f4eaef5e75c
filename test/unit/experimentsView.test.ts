import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeState, isFiltered, parseMetricFilter, parseParamFilter, preferredMetric, runQuery, sanitizeState, sweepRunsQuery } from '../../src/vscode/views/experiments/state.ts';
import type { RunFilterState, SortState, ViewState } from '../../src/vscode/views/experiments/state.ts';
import { buildRun, tempStore } from './helpers.ts';

// The Experiments view's state, mapped onto the store's page query, is plain Node: tested here against a real store.

function seeded() {
  const { store } = tempStore();
  const runs = [
    buildRun(store, { experiment: 'e', name: 'alpha', status: 'finished', params: { lr: 0.1 }, series: { loss: [0.9, 0.5] } }),
    buildRun(store, { experiment: 'e', name: 'beta_1', status: 'failed', params: { lr: 0.01 }, series: { loss: [0.8, 0.2] } }),
    buildRun(store, { experiment: 'e', name: 'gamma%', status: 'finished', params: { lr: 0.01 }, series: { loss: [NaN] } }),
    buildRun(store, { experiment: 'e', name: 'delta', status: 'finished', params: { lr: 0.1 } }),
    buildRun(store, { experiment: 'other', name: 'alpha', status: 'finished', series: { loss: [0.1] } }),
  ];
  return { store, runs };
}

type SeededStore = ReturnType<typeof seeded>['store'];
const page = (store: SeededStore, filter: RunFilterState, sort: SortState = { by: 'created', descending: true }, limit = 100, offset = 0) =>
  store.runPage(runQuery({ filter, sort }, 'e', { limit, offset })).runs.map((r) => r.name);
const countRuns = (store: SeededStore, filter: RunFilterState) => store.runPage(runQuery({ filter, sort: { by: 'created', descending: true } }, 'e', { limit: 0, offset: 0 })).total;

test('runs of one experiment, newest first, a page at a time', () => {
  const { store } = seeded();
  assert.deepEqual(page(store, {}), ['delta', 'gamma%', 'beta_1', 'alpha']);
  assert.deepEqual(page(store, {}, { by: 'created', descending: true }, 2, 2), ['beta_1', 'alpha']);
  assert.equal(countRuns(store, {}), 4);
});

test("a sweep's runs are listed under the sweep, not beside it", () => {
  const { store } = seeded();
  const sweep = buildRun(store, { experiment: 'e', name: 'lr-sweep', status: 'finished' });
  buildRun(store, { experiment: 'e', name: 'lr-sweep/1', status: 'finished', parentId: sweep.id });
  assert.deepEqual(page(store, {}), ['lr-sweep', 'delta', 'gamma%', 'beta_1', 'alpha']);
  assert.equal(countRuns(store, {}), 5);
});

test('filtered by a metric only its runs log, a sweep is shown with just its matching runs under it', () => {
  const { store } = seeded();
  const sweep = buildRun(store, { experiment: 'e', name: 'lr-sweep', status: 'finished' });
  const runs = [0.93, 0.95, 0.96].map((acc, i) => buildRun(store, { experiment: 'e', name: `lr=${i}`, status: 'finished', parentId: sweep.id, series: { val_accuracy: [0.5, acc] } }));
  const filter: RunFilterState = { metric: parseMetricFilter('val_accuracy >= 0.94') };
  assert.deepEqual(page(store, filter), ['lr-sweep']);
  assert.equal(countRuns(store, filter), 1);
  const state: ViewState = { filter, sort: { by: 'created', descending: true } };
  assert.deepEqual(store.runPage(sweepRunsQuery(state, sweep.id)).runs.map((r) => r.id), [runs[1]!.id, runs[2]!.id], 'oldest first, only the matching');
  assert.equal(store.runPage(sweepRunsQuery({ filter: {}, sort: state.sort }, sweep.id)).runs.length, 3, 'unfiltered, every run');
});

test('filters by status, name (LIKE wildcards are literal), id, param and metric', () => {
  const { store, runs } = seeded();
  assert.deepEqual(page(store, { statuses: ['failed'] }), ['beta_1']);
  assert.deepEqual(page(store, { text: '%' }), ['gamma%']);
  assert.deepEqual(page(store, { text: '_' }), ['beta_1']);
  assert.deepEqual(page(store, { text: `#${runs[0]!.id}` }), ['alpha']);
  assert.deepEqual(page(store, { param: { key: 'lr', value: '0.01' } }), ['gamma%', 'beta_1']);
  assert.deepEqual(page(store, { metric: { key: 'loss', op: '<', value: 0.3 } }), ['beta_1']);
  // NaN never matches a comparison, and a run without the metric is not "!= 0.5".
  assert.deepEqual(page(store, { metric: { key: 'loss', op: '!=', value: 0.5 } }), ['beta_1']);
  assert.equal(countRuns(store, { statuses: ['finished'], param: { key: 'lr', value: '0.1' } }), 2);
});

test('sorts by a metric with runs lacking it last, either direction', () => {
  const { store } = seeded();
  assert.deepEqual(page(store, {}, { by: 'metric', metric: 'loss', descending: false }), ['beta_1', 'alpha', 'delta', 'gamma%']);
  assert.deepEqual(page(store, {}, { by: 'metric', metric: 'loss', descending: true }).slice(0, 2), ['alpha', 'beta_1']);
  assert.deepEqual(page(store, {}, { by: 'name', descending: false }), ['alpha', 'beta_1', 'delta', 'gamma%']);
  assert.deepEqual(store.metricKeys(), ['loss']);
  assert.deepEqual(store.paramKeys(), ['lr']);
});

test('view state: saved values are sanitized, filters parsed and described', () => {
  assert.deepEqual(sanitizeState({ filter: { statuses: ['finished', 'bogus'], metric: { key: 'loss', op: '<<', value: 1 } }, sort: { by: 'metric' } }), {
    filter: { statuses: ['finished'] },
    sort: { by: 'created', descending: true },
  });
  assert.deepEqual(sanitizeState(undefined), { filter: {}, sort: { by: 'created', descending: true } });
  assert.deepEqual(parseMetricFilter('val_loss<=0.25'), { key: 'val_loss', op: '<=', value: 0.25 });
  assert.equal(parseMetricFilter('loss < abc'), undefined);
  assert.deepEqual(parseParamFilter(' lr = 0.1 '), { key: 'lr', value: '0.1' });
  assert.equal(parseParamFilter('=1'), undefined);
  assert.equal(isFiltered({}), false);
  assert.equal(describeState({ filter: { statuses: ['failed'], param: { key: 'lr', value: '0.1' } }, sort: { by: 'metric', metric: 'loss', descending: false } }), 'filter: failed, lr=0.1 · by loss ↑');
});

test("the key metric shown is the sorted-by one, else the configured one, else the profiles' gate metric, else the first by name", () => {
  const { store } = tempStore();
  buildRun(store, { experiment: 'e', name: 'r', status: 'finished', series: { acc: [0.5], loss: [0.25] } });
  const keyOf = (state: ViewState, configured: string, gate?: string) =>
    store.runPage(runQuery(state, 'e', { limit: 10, offset: 0 }), { keyMetric: preferredMetric(state, configured, gate) }).runs[0]!.keyMetric;
  const newest: SortState = { by: 'created', descending: true };
  assert.deepEqual(keyOf({ filter: {}, sort: newest }, ''), { key: 'acc', value: 0.5 });
  assert.deepEqual(keyOf({ filter: {}, sort: newest }, 'loss'), { key: 'loss', value: 0.25 });
  assert.deepEqual(keyOf({ filter: {}, sort: newest }, '', 'loss'), { key: 'loss', value: 0.25 }, 'the gate metric when nothing is configured');
  assert.deepEqual(keyOf({ filter: {}, sort: newest }, 'acc', 'loss'), { key: 'acc', value: 0.5 }, 'the setting wins over the gate');
  assert.deepEqual(keyOf({ filter: {}, sort: { by: 'metric', metric: 'loss', descending: false } }, 'acc'), { key: 'loss', value: 0.25 });
  assert.deepEqual(keyOf({ filter: {}, sort: newest }, 'missing'), { key: 'acc', value: 0.5 }, 'a run without the configured metric shows its first');
});

test('a page of 200 runs with key metrics and child counts costs at most 5 statements, filtered and sorted too', () => {
  const { store } = tempStore();
  store.transaction(() => {
    for (let i = 0; i < 260; i++) {
      const run = store.createRun({ experiment: 'big', params: { lr: 0.1 } });
      store.logMetrics(run.id, [{ key: 'loss', step: 0, value: i / 260 }]);
      if (i % 20 === 0) store.createRun({ experiment: 'big', parentId: run.id });
    }
  });
  const cost = (state: ViewState) => {
    const before = store.statementsExecuted;
    const shown = store.runPage(runQuery(state, 'big', { limit: 200, offset: 0 }), { keyMetric: preferredMetric(state, 'loss') });
    assert.equal(shown.runs.length, 200);
    assert.ok(shown.runs.some((r) => r.childCount === 1) && shown.runs.every((r) => r.keyMetric?.key === 'loss'));
    return store.statementsExecuted - before;
  };
  assert.ok(cost({ filter: {}, sort: { by: 'created', descending: true } }) <= 5);
  assert.ok(cost({ filter: { param: { key: 'lr', value: '0.1' }, metric: { key: 'loss', op: '<', value: 2 } }, sort: { by: 'metric', metric: 'loss', descending: true } }) <= 5);
});

test('a saved state from an older version still loads and maps onto the page query', () => {
  const saved = { filter: { statuses: ['failed'], text: 'beta', param: { key: 'lr', value: '0.01' }, metric: { key: 'loss', op: '<', value: 0.3 } }, sort: { by: 'metric', metric: 'loss', descending: false } };
  assert.deepEqual(runQuery(sanitizeState(saved), 'e', { limit: 200, offset: 0 }), {
    experiment: 'e',
    topLevelOnly: true,
    statuses: ['failed'],
    text: 'beta',
    params: [{ key: 'lr', op: '=', value: '0.01' }],
    metrics: [{ key: 'loss', op: '<', value: 0.3 }],
    sort: { by: 'metric', key: 'loss', descending: false },
    limit: 200,
    offset: 0,
  });
});
