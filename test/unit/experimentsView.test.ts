import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countRuns, metricKeys, paramKeys, queryRuns } from '../../src/vscode/views/experiments/query.ts';
import { describeState, isFiltered, parseMetricFilter, parseParamFilter, sanitizeState } from '../../src/vscode/views/experiments/state.ts';
import type { RunFilterState, SortState } from '../../src/vscode/views/experiments/state.ts';
import { buildRun, tempStore } from './helpers.ts';

// The Experiments view's query and state are plain Node: tested here against a real store.

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

const page = (store: ReturnType<typeof seeded>['store'], filter: RunFilterState, sort: SortState = { by: 'created', descending: true }, limit = 100, offset = 0) =>
  queryRuns(store, { experiment: 'e', filter, sort, limit, offset }).map((r) => r.name);

test('runs of one experiment, newest first, a page at a time', () => {
  const { store } = seeded();
  assert.deepEqual(page(store, {}), ['delta', 'gamma%', 'beta_1', 'alpha']);
  assert.deepEqual(page(store, {}, { by: 'created', descending: true }, 2, 2), ['beta_1', 'alpha']);
  assert.equal(countRuns(store, { experiment: 'e', filter: {} }), 4);
});

test("a sweep's runs are listed under the sweep, not beside it", () => {
  const { store } = seeded();
  const sweep = buildRun(store, { experiment: 'e', name: 'lr-sweep', status: 'finished' });
  buildRun(store, { experiment: 'e', name: 'lr-sweep/1', status: 'finished', parentId: sweep.id });
  assert.deepEqual(page(store, {}), ['lr-sweep', 'delta', 'gamma%', 'beta_1', 'alpha']);
  assert.equal(countRuns(store, { experiment: 'e', filter: {} }), 5);
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
  assert.equal(countRuns(store, { experiment: 'e', filter: { statuses: ['finished'], param: { key: 'lr', value: '0.1' } } }), 2);
});

test('sorts by a metric with runs lacking it last, either direction', () => {
  const { store } = seeded();
  assert.deepEqual(page(store, {}, { by: 'metric', metric: 'loss', descending: false }), ['beta_1', 'alpha', 'delta', 'gamma%']);
  assert.deepEqual(page(store, {}, { by: 'metric', metric: 'loss', descending: true }).slice(0, 2), ['alpha', 'beta_1']);
  assert.deepEqual(page(store, {}, { by: 'name', descending: false }), ['alpha', 'beta_1', 'delta', 'gamma%']);
  assert.deepEqual(metricKeys(store), ['loss']);
  assert.deepEqual(paramKeys(store), ['lr']);
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
