import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../src/core/launch/sweep.ts';
import type { Store } from '../../src/core/store/store.ts';
import { compileRunFilter, parseRunFilter, type FilterableRun, type RunFilterOptions } from '../../src/shared/runFilter.ts';
import { buildRun, tempStore } from './helpers.ts';

const PARAM_VALUES = ['0.1', '0.10', '1e-3', '.5', '-2', '+3', '1e', '12abc', 'adam', 'Adam', 'ADAM', '50%', 'a_b', 'axb', 'x*y', '[q]', 'ünï', ''];
const METRIC_VALUES = [0, 0.5, 0.9, 1, -1, NaN, Infinity, -Infinity, 1e300];
const STATUSES = ['queued', 'running', 'finished', 'failed', 'killed', 'crashed'] as const;
const NAMES = ['resnet_50%', 'resnet-18', 'ViT', 'vit', 'bert*', 'x[1]', 'Ünïcode', 'a\\b'];

/** A seeded set of runs with every kind of value the grammar meets, and the same runs as the table holds them. */
function generatedRuns(count: number): { store: Store; rows: FilterableRun[] } {
  const { store } = tempStore();
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  for (let i = 0; i < count; i++) {
    const params: Record<string, string> = {};
    for (const key of ['lr', 'opt', 'note']) if (random() < 0.7) params[key] = pick(PARAM_VALUES);
    const series: Record<string, number[]> = {};
    for (const key of ['acc', 'loss']) if (random() < 0.7) series[key] = [pick(METRIC_VALUES), pick(METRIC_VALUES)];
    const user = random() < 0.5 ? pick(['ana', 'bo']) : undefined;
    const run = buildRun(store, { experiment: pick(['vision', 'nlp']), name: pick(NAMES), params, series, ...(user ? { user } : {}) });
    const tags: Record<string, string> = {};
    if (random() < 0.5) tags['mlflow.user'] = pick(['ana', 'bo']);
    if (random() < 0.5) tags.stage = pick(PARAM_VALUES);
    store.setTags(run.id, tags);
    const status = pick(STATUSES);
    if (status !== 'queued') {
      store.markStarted(run.id, null);
      if (status !== 'running') store.markEnded(run.id, { status });
      const startedAt = 1_700_000_000_000 + Math.floor(random() * 10) * 60_000;
      store.setRunTimes(run.id, { startedAt, endedAt: status === 'running' ? null : startedAt + Math.floor(random() * 5) * 30_000 });
    }
  }
  const rows = store.runPage({ sort: { by: 'created', descending: false }, limit: -1, offset: 0 }).runs.map((run): FilterableRun => ({
    id: run.id,
    mlflowId: run.mlflowId,
    user: run.user,
    name: run.name,
    experiment: run.experiment,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    params: store.params(run.id),
    tags: store.tags(run.id),
    metrics: Object.fromEntries(Object.entries(store.summaries(run.id)).map(([key, s]) => [key, s.last])),
  }));
  return { store, rows };
}

const FILTERS = [
  'metrics.acc > 0.5',
  'metrics.acc >= 0.9 and metrics.loss < 1',
  'metrics.acc != 0.5',
  'metrics.acc = 1e300',
  'metrics.loss < -1e308',
  'metrics.loss > 1e308',
  'metrics.acc IS NULL',
  'metrics.acc IS NOT NULL',
  "params.lr = '0.1'",
  'params.lr = 0.1',
  'params.lr != 0.1',
  'params.lr < 0.2',
  'params.lr >= -2',
  'params.lr = 1',
  'params.lr > 0',
  "params.opt = 'adam'",
  'params.opt != adam',
  "params.opt LIKE 'a%'",
  "params.opt ILIKE 'a%'",
  "params.opt ILIKE '%DAM'",
  "params.note LIKE '50\\%'",
  "params.note LIKE 'a_b'",
  "params.note LIKE 'a\\_b'",
  "params.note LIKE 'x*y'",
  "params.note LIKE '[q]'",
  "params.note ILIKE 'ÜNÏ'",
  "params.note LIKE '_n_'",
  "params.note = ''",
  "params.opt IN ('adam', 'Adam', '0.1')",
  "params.opt NOT IN ('adam', '')",
  'params.note IS NULL',
  "tags.stage = 'adam'",
  'tags.stage < 1',
  "tags.`mlflow.user` = 'ana'",
  "attributes.user_id = 'bo'",
  "user_id != 'bo'",
  "attributes.run_name LIKE 'resnet%'",
  "run_name ILIKE 'vit'",
  "name LIKE '%*'",
  "name LIKE 'x[_]'",
  "name ILIKE 'ünïcode'",
  "name LIKE 'a\\\\b'",
  "name IN ('vit', 'ViT')",
  "experiment = 'nlp' and status = finished",
  "status = 'FAILED'",
  'status != running',
  "status IN ('killed', 'crashed')",
  "status NOT IN ('finished')",
  "status LIKE 'F%'",
  "status ILIKE '%ed'",
  'attributes.start_time > 1700000200000',
  'start_time <= 1700000000000',
  'end_time IS NULL',
  'attributes.end_time >= 1700000060000',
  'duration >= 60',
  'duration < 30',
  'id <= 10',
  "run_id LIKE '%a%'",
  'run_id > 5',
];

test('the store (SQL) and compileRunFilter (in memory) answer every filter alike on generated runs', () => {
  const { store, rows } = generatedRuns(120);
  const now = Date.now();
  let nonEmpty = 0;
  const check = (text: string, options: RunFilterOptions = {}) => {
    const ast = parseRunFilter(text, options);
    const inMemory = rows.filter(compileRunFilter(ast, now)).map((r) => r.id);
    const inSql = store.runPage({ filter: ast, sort: { by: 'created', descending: false }, limit: -1, offset: 0 }).runs.map((r) => r.id);
    assert.deepEqual(inSql, inMemory, `${text}${options.strict ? ' (strict)' : ''}`);
    if (inMemory.length > 0 && inMemory.length < rows.length) nonEmpty++;
  };
  for (const text of FILTERS) check(text);
  check(`run_id = '${rows[3]!.mlflowId}'`);
  check(`run_id IN ('${rows[5]!.mlflowId}', '${rows[8]!.mlflowId}', 'nothing')`, { strict: 'mlflow' });
  for (const text of ["status = 'FAILED'", "params.opt = 'adam'", "run_id IN ('1', '2')", "tags.stage LIKE '%a%'"]) check(text, { strict: 'mlflow' });
  // Two clauses together, drawn from the list.
  const random = seededRandom(3);
  for (let i = 0; i < 60; i++) check(`${FILTERS[Math.floor(random() * FILTERS.length)]} AND ${FILTERS[Math.floor(random() * FILTERS.length)]}`);
  assert.ok(nonEmpty >= FILTERS.length - 8, `most filters split the runs (${nonEmpty} did), so the comparison means something`);
});

test('a filter joins the other run-page conditions and keeps the total', () => {
  const { store, rows } = generatedRuns(40);
  const ast = parseRunFilter('metrics.acc >= 0.5');
  const expected = rows.filter(compileRunFilter(ast)).filter((r) => r.experiment === 'vision');
  const page = store.runPage({ filter: ast, experiment: 'vision', sort: { by: 'metric', key: 'acc', descending: true }, limit: 3, offset: 0 });
  assert.equal(page.total, expected.length);
  assert.deepEqual(
    page.runs.map((r) => r.id),
    expected
      .sort((a, b) => b.metrics.acc! - a.metrics.acc! || b.id - a.id)
      .slice(0, 3)
      .map((r) => r.id),
  );
});
