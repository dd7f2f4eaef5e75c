import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMetricCondition, parseParamCondition, parseRunSort, type RunQuery } from '../../src/core/store/runQuery.ts';
import type { Store } from '../../src/core/store/store.ts';
import { seededRandom } from '../../src/core/launch/sweep.ts';
import { buildRun, tempStore } from './helpers.ts';

const newestFirst = { by: 'created', descending: true } as const;
const query = (q: Partial<RunQuery> = {}): RunQuery => ({ sort: newestFirst, limit: 100, offset: 0, ...q });
const ids = (store: Store, q: Partial<RunQuery>) => store.runPage(query(q)).runs.map((r) => r.id);

/** Five runs in "vision" (one a sweep with two children), one elsewhere. */
function fixture() {
  const { store } = tempStore();
  const a = buildRun(store, { experiment: 'vision', name: 'resnet_50%', params: { lr: 0.1, opt: 'adam' }, series: { accuracy: [0.5, 0.91], loss: [1, 0.3] } });
  const b = buildRun(store, { experiment: 'vision', name: 'resnet-18', params: { lr: '0.010', opt: 'sgd' }, series: { accuracy: [0.7, 0.8] } });
  const c = buildRun(store, { experiment: 'vision', name: 'vit', params: { lr: 0.001 }, series: { accuracy: [0.2, NaN], zeta: [1] } });
  const sweep = buildRun(store, { experiment: 'vision', name: 'sweep' });
  const child1 = buildRun(store, { experiment: 'vision', parentId: sweep.id, params: { lr: 0.5 }, series: { accuracy: [0.99] } });
  const child2 = buildRun(store, { experiment: 'vision', parentId: sweep.id });
  const other = buildRun(store, { experiment: 'nlp', name: 'bert', params: { lr: 0.1 } });
  store.markStarted(a.id, null);
  store.markEnded(a.id, { status: 'finished' });
  store.markEnded(b.id, { status: 'failed' });
  return { store, a, b, c, sweep, child1, child2, other };
}

test('runPage filters by experiment, top level, status, and name part or id (LIKE wildcards are literal)', () => {
  const { store, a, b, c, sweep, child1, child2, other } = fixture();
  assert.deepEqual(ids(store, {}), [other.id, child2.id, child1.id, sweep.id, c.id, b.id, a.id]);
  assert.deepEqual(ids(store, { experiment: 'vision', topLevelOnly: true }), [sweep.id, c.id, b.id, a.id]);
  assert.deepEqual(ids(store, { statuses: ['finished', 'failed'] }), [b.id, a.id]);
  assert.deepEqual(ids(store, { text: 'resnet' }), [b.id, a.id]);
  assert.deepEqual(ids(store, { text: '50%' }), [a.id], '% is a character, not a wildcard');
  assert.deepEqual(ids(store, { text: 't_5' }), [a.id]);
  assert.deepEqual(ids(store, { text: 'resnet_' }), [a.id], '_ is a character');
  assert.deepEqual(ids(store, { text: `#${c.id}` }), [c.id]);
  assert.equal(store.runPage(query({ experiment: 'vision', limit: 2 })).total, 6, 'total counts every page');
});

test('runPage: param and metric conditions AND together; numbers compare as numbers; NaN matches nothing', () => {
  const { store, a, b, c, child1, other } = fixture();
  const p = (...texts: string[]) => texts.map(parseParamCondition);
  const m = (...texts: string[]) => texts.map(parseMetricCondition);
  assert.deepEqual(ids(store, { params: p('lr=0.1') }), [other.id, a.id]);
  assert.deepEqual(ids(store, { params: p('lr=0.01') }), [b.id], '"0.010" is the number 0.01');
  assert.deepEqual(ids(store, { params: p('lr<0.1') }), [c.id, b.id]);
  assert.deepEqual(ids(store, { params: p('lr>=0.1', 'opt=adam') }), [a.id]);
  assert.deepEqual(ids(store, { params: p('opt!=adam') }), [b.id], 'runs without the param do not match !=');
  assert.deepEqual(ids(store, { metrics: m('accuracy>=0.9') }), [child1.id, a.id]);
  assert.deepEqual(ids(store, { metrics: m('accuracy<0.85') }), [b.id], 'the last value, and NaN never matches');
  assert.deepEqual(ids(store, { metrics: m('accuracy!=0.8') }), [child1.id, a.id], 'NaN is not "not equal" either');
  assert.deepEqual(ids(store, { metrics: m('accuracy>0.5', 'loss<0.5') }), [a.id]);
  assert.deepEqual(ids(store, { params: p('lr=0.1'), metrics: m('accuracy>0') }), [a.id]);
});

test('runPage: a top-level filter keeps a sweep whose runs match though it has no metric; parentId lists those runs', () => {
  const { store, a, sweep, child1 } = fixture();
  const m = (...texts: string[]) => texts.map(parseMetricCondition);
  assert.deepEqual(ids(store, { experiment: 'vision', topLevelOnly: true, metrics: m('accuracy>=0.9') }), [sweep.id, a.id]);
  assert.equal(store.runPage(query({ experiment: 'vision', topLevelOnly: true, metrics: m('accuracy>=0.9') })).total, 2);
  assert.deepEqual(ids(store, { experiment: 'vision', topLevelOnly: true, metrics: m('accuracy>=0.995') }), [], 'no run or sweep run matches');
  assert.deepEqual(ids(store, { parentId: sweep.id, metrics: m('accuracy>=0.9') }), [child1.id]);
  assert.deepEqual(ids(store, { parentId: sweep.id }).length, 2);
  assert.deepEqual(ids(store, { experiment: 'vision', topLevelOnly: true, text: 'sweep' }), [sweep.id], 'the sweep itself still matches by its own name');
});

test('runPage sorts by name, status, duration, metric and param; runs without the key go last either way', () => {
  const { store, a, b, c, sweep, child1, child2, other } = fixture();
  const sorted = (sort: string) => ids(store, { sort: parseRunSort(sort) });
  assert.deepEqual(sorted('created'), [a.id, b.id, c.id, sweep.id, child1.id, child2.id, other.id]);
  assert.deepEqual(sorted('metric:accuracy:desc'), [child1.id, a.id, b.id, other.id, child2.id, sweep.id, c.id]);
  assert.deepEqual(sorted('metric:accuracy'), [b.id, a.id, child1.id, other.id, child2.id, sweep.id, c.id]);
  assert.deepEqual(sorted('param:lr'), [c.id, b.id, other.id, a.id, child1.id, child2.id, sweep.id]);
  assert.deepEqual(sorted('param:lr:desc'), [child1.id, other.id, a.id, b.id, c.id, child2.id, sweep.id]);
  assert.deepEqual(sorted('name').slice(0, 3), [other.id, b.id, a.id]);
  assert.deepEqual(sorted('status:desc').slice(0, 5).map((id) => store.run(id)!.status), ['queued', 'queued', 'queued', 'queued', 'queued']);
  assert.deepEqual(sorted('status').slice(0, 2), [b.id, a.id]);
  assert.equal(sorted('duration:desc').length, 7);
  assert.deepEqual(ids(store, { sort: parseRunSort('created'), limit: 2, offset: 2 }), [c.id, sweep.id]);
});

test('runPage gives each run its key metric (the preferred one, else the first by name) and its child count', () => {
  const { store, a, b, c, sweep } = fixture();
  const rows = new Map(store.runPage(query({ topLevelOnly: true }), { keyMetric: 'loss' }).runs.map((r) => [r.id, r]));
  assert.deepEqual(rows.get(a.id)!.keyMetric, { key: 'loss', value: 0.3 });
  assert.deepEqual(rows.get(b.id)!.keyMetric, { key: 'accuracy', value: 0.8 }, 'no loss: the first metric by name');
  assert.ok(Number.isNaN(rows.get(c.id)!.keyMetric!.value), 'a NaN last value is NaN, not null');
  assert.equal(rows.get(sweep.id)!.keyMetric, undefined);
  assert.equal(rows.get(sweep.id)!.childCount, 2);
  assert.equal(rows.get(a.id)!.childCount, 0);
  assert.equal(rows.get(a.id)!.name, 'resnet_50%');
  assert.equal(rows.get(a.id)!.experiment, 'vision');
  const plain = store.runPage(query({ topLevelOnly: true })).runs.find((r) => r.id === a.id)!;
  assert.deepEqual(plain.keyMetric, { key: 'accuracy', value: 0.91 });
});

test('a page costs four statements whatever its size, filters and sort, five when a metric-sorted page reaches runs without the metric', () => {
  const { store } = tempStore();
  store.transaction(() => {
    for (let i = 0; i < 300; i++) {
      const run = store.createRun({ experiment: 'big', params: { lr: [0.1, 0.01][i % 2]! } });
      store.logMetrics(run.id, [{ key: 'accuracy', step: 0, value: i / 300 }, { key: 'loss', step: 0, value: 1 - i / 300 }]);
      if (i % 50 === 0) store.createRun({ experiment: 'big', parentId: run.id });
    }
  });
  const cost = (q: Partial<RunQuery>) => {
    const before = store.statementsExecuted;
    const page = store.runPage(query({ experiment: 'big', topLevelOnly: true, ...q }), { keyMetric: 'loss' });
    return { statements: store.statementsExecuted - before, runs: page.runs.length };
  };
  assert.deepEqual(cost({ limit: 10 }), { statements: 4, runs: 10 });
  assert.deepEqual(cost({ limit: 200 }), { statements: 4, runs: 200 });
  assert.deepEqual(cost({ limit: 100, sort: parseRunSort('metric:accuracy:desc'), params: [parseParamCondition('lr=0.1')], metrics: [parseMetricCondition('loss<0.9')] }), {
    statements: 4,
    runs: 100,
  });
  assert.deepEqual(cost({ limit: 200, sort: parseRunSort('metric:accuracy:desc'), params: [parseParamCondition('lr=0.1')], metrics: [parseMetricCondition('loss<0.9')] }), {
    statements: 5,
    runs: 134,
  });
  assert.deepEqual(cost({ text: 'no such run' }), { statements: 2, runs: 0 }, 'an empty page skips the per-run reads');
});

test('metricKeys and paramKeys list every name once, sorted', () => {
  const { store } = fixture();
  assert.deepEqual(store.metricKeys(), ['accuracy', 'loss', 'zeta']);
  assert.deepEqual(store.paramKeys(), ['lr', 'opt']);
});

test('conditions and sorts as typed: clear one-line errors naming the bad part', () => {
  assert.deepEqual(parseParamCondition('lr=0.1'), { key: 'lr', op: '=', value: '0.1' });
  assert.deepEqual(parseParamCondition(' opt != adam '), { key: 'opt', op: '!=', value: 'adam' });
  assert.deepEqual(parseMetricCondition('val/acc>=0.9'), { key: 'val/acc', op: '>=', value: 0.9 });
  assert.deepEqual(parseRunSort('metric:val:acc:desc'), { by: 'metric', key: 'val:acc', descending: true });
  assert.deepEqual(parseRunSort('param:lr:asc'), { by: 'param', key: 'lr', descending: false });
  assert.deepEqual(parseRunSort('name'), { by: 'name', descending: false });
  assert.throws(() => parseParamCondition('lr'), /--param "lr": write it like lr=0.1/);
  assert.throws(() => parseParamCondition('opt<adam'), /"adam" is not a number, and < compares numbers/);
  assert.throws(() => parseMetricCondition('accuracy>=high'), /--metric "accuracy>=high": "high" is not a number/);
  assert.throws(() => parseMetricCondition('>=0.9'), /Cannot read --metric ">=0.9"/);
  assert.throws(() => parseRunSort('speed'), /--sort "speed": write it like name, duration:desc/);
  assert.throws(() => parseRunSort('metric'), /name the metric, as in metric:NAME/);
  assert.throws(() => parseRunSort('name:x'), /name takes no name/);
});

test('metric-sorted pages, page by page, equal one sort of every run: value order, id breaking ties, runs without a value last', () => {
  const { store } = tempStore();
  const rand = seededRandom(3);
  const expected: { id: number; value: number | null }[] = [];
  store.transaction(() => {
    for (let i = 0; i < 70; i++) {
      const r = rand();
      // Ties (values from a small set), NaN (stored as NULL: no value) and runs without the metric.
      const value = r < 0.15 ? NaN : r < 0.3 ? undefined : Math.floor(rand() * 8) / 8;
      const run = buildRun(store, { experiment: 'e', series: value === undefined ? { other: [1] } : { accuracy: [value] } });
      expected.push({ id: run.id, value: value === undefined || Number.isNaN(value) ? null : value });
    }
  });
  for (const descending of [true, false]) {
    const order = [...expected]
      .sort((a, b) => (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0) || (a.value === null ? 0 : (descending ? b.value! - a.value! : a.value! - b.value!)) || b.id - a.id)
      .map((r) => r.id);
    for (const limit of [1, 6, 25, 100]) {
      const pages: number[] = [];
      for (let offset = 0; offset < 80; offset += limit) pages.push(...ids(store, { experiment: 'e', sort: { by: 'metric', key: 'accuracy', descending }, limit, offset }));
      assert.deepEqual(pages, order, `${descending ? 'desc' : 'asc'}, pages of ${limit}`);
    }
  }
  assert.deepEqual(ids(store, { experiment: 'e', sort: { by: 'metric', key: 'no such metric', descending: true } }), expected.map((r) => r.id).reverse());
});

test('a page sorted by a metric walks the metric in index order instead of sorting every run', () => {
  const { store } = tempStore();
  for (let i = 0; i < 50; i++) buildRun(store, { experiment: 'e', series: { accuracy: [i / 50] } });
  const plans: string[] = [];
  const prepare = store.db.prepare.bind(store.db);
  store.db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (!source.includes('WITH page')) return statement;
    const all = statement.all.bind(statement);
    statement.all = ((...args: unknown[]) => {
      plans.push(...(prepare(`EXPLAIN QUERY PLAN ${source}`).all(...args) as { detail: string }[]).map((row) => row.detail));
      return all(...args);
    }) as typeof statement.all;
    return statement;
  }) as typeof store.db.prepare;
  assert.equal(ids(store, { experiment: 'e', sort: { by: 'metric', key: 'accuracy', descending: true }, limit: 10 }).length, 10);
  assert.ok(plans.some((detail) => /metric_summaries_by_key_last/.test(detail)), plans.join('\n'));
  assert.ok(!plans.some((detail) => /TEMP B-TREE FOR ORDER BY/.test(detail)), plans.join('\n'));
});
