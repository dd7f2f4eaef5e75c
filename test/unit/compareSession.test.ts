import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompareSession, fileSafe, type ComparePort } from '../../src/core/compare/session.ts';
import { defaultViewState, type HostMessage, type SeriesQuery } from '../../src/shared/compareProtocol.ts';
import { buildRun, tempStore } from './helpers.ts';

function port() {
  const sent: HostMessage[] = [];
  const saved: { suggestedName: string; text: string }[] = [];
  const diffs: [number, number][] = [];
  const logs: string[] = [];
  const p: ComparePort = {
    post: (m) => void sent.push(m),
    save: async (f) => {
      saved.push({ suggestedName: f.suggestedName, text: Buffer.from(f.data).toString(f.kind === 'png' ? 'base64' : 'utf8') });
      return '/tmp/x';
    },
    showCodeDiff: async (a, b) => void diffs.push([a, b]),
    log: (level, m) => void logs.push(`${level}: ${m}`),
  };
  return { p, sent, saved, diffs, logs };
}

const q: SeriesQuery = { metric: 'loss', xAxis: 'step', range: null, points: 500, groupBy: null };
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('session: nothing is posted before ready; ready brings init and table, then series on request', async () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: 'a', params: { lr: 0.1 }, series: { loss: [1, 0.5], acc: [0.1, 0.2] } });
  const b = buildRun(store, { name: 'b', params: { lr: 0.2 }, series: { loss: [2, 1.5] } });
  const { p, sent } = port();
  const session = new CompareSession(store, [a.id, b.id], p);
  session.highlight(b.id);
  assert.equal(sent.length, 0);
  await session.handle({ type: 'ready', view: null });
  assert.deepEqual(sent.map((m) => m.type), ['init', 'table', 'highlight']);
  const init = sent[0] as Extract<HostMessage, { type: 'init' }>;
  assert.deepEqual(init.state.runs.map((r) => r.name), ['a', 'b']);
  assert.deepEqual(init.defaultMetrics, ['loss', 'acc']);
  assert.deepEqual(init.state.differingParams, ['lr']);

  await session.handle({ type: 'requestSeries', requestId: 7, query: { ...q, points: 1e9, xAxis: 'bogus' as 'step' } });
  const series = sent.at(-1) as Extract<HostMessage, { type: 'series' }>;
  assert.equal(series.type, 'series');
  assert.equal(series.requestId, 7);
  assert.equal(series.query.xAxis, 'step', 'unknown axes fall back to steps');
  assert.equal(series.query.points, 4000, 'points are capped');
  assert.deepEqual(series.runs.map((r) => [r.runId, r.x.length]), [[a.id, 2], [b.id, 2]]);

  await session.handle({ type: 'requestSeries', requestId: 8, query: { ...q, metric: '' } });
  assert.deepEqual(sent.at(-1), { type: 'error', message: 'A series query needs a metric', requestId: 8 });

  // Hidden: only notices are queued; the next ready rebuilds everything.
  session.webviewHidden();
  session.highlight(a.id);
  const before = sent.length;
  await session.handle({ type: 'requestSeries', requestId: 9, query: q });
  assert.equal(sent.length, before);
  await session.handle({ type: 'ready', view: { ...defaultViewState(), directions: { loss: 'max' } } });
  assert.deepEqual(sent.slice(before).map((m) => m.type), ['init', 'table', 'highlight']);
  assert.equal((sent[before] as Extract<HostMessage, { type: 'init' }>).state.directions.loss, 'max');
  session.dispose();
});

test('session: rendered reports resolve waitForRendered; exports go through the port', async () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: '=a', series: { loss: [1, 0.5] } });
  const b = buildRun(store, { name: 'b', series: { loss: [1, 0.25] } });
  const { p, saved, diffs } = port();
  const session = new CompareSession(store, [a.id, b.id], p);
  await session.handle({ type: 'ready', view: null });
  const waiting = session.waitForRendered((r) => r.metric === 'loss');
  await session.handle({ type: 'rendered', report: { view: 'chart', metric: 'acc', requestId: 1, series: [], ms: 1 } });
  await session.handle({ type: 'rendered', report: { view: 'chart', metric: 'loss', requestId: 2, series: [{ runId: a.id, group: null, points: 2 }], ms: 3 } });
  assert.equal((await waiting).requestId, 2);
  assert.equal((await session.waitForRendered()).metric, 'loss', 'the last report answers at once');

  await session.handle({ type: 'exportCsv', what: 'table' });
  assert.equal(saved[0]!.suggestedName, 'runboard-compare.csv');
  assert.match(saved[0]!.text, /^id,name,status,experiment,loss:last,loss:best\r\n/);
  assert.match(saved[0]!.text, /'=a/);
  await session.handle({ type: 'exportCsv', what: 'series', query: { ...q, metric: 'loss' } });
  assert.equal(saved[1]!.suggestedName, 'loss.csv');
  assert.equal(saved[1]!.text.split('\r\n').length, 6);
  await session.handle({ type: 'exportPng', name: 'val/loss', dataUrl: 'data:image/png;base64,iVBORw0KGgo=' });
  assert.deepEqual(saved[2], { suggestedName: 'val_loss.png', text: 'iVBORw0KGgo=' });
  await session.handle({ type: 'showCodeDiff', runIds: [a.id, b.id] });
  assert.deepEqual(diffs, [[a.id, b.id]]);
  session.dispose();
});

test('session: live updates are coalesced and carry only the runs that logged', async () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: 'a', series: { loss: [1, 0.5] } });
  const b = buildRun(store, { name: 'b', series: { loss: [1, 0.25] } });
  store.markEnded(a.id, { status: 'finished' });
  store.markStarted(b.id, null);
  const { p, sent } = port();
  const session = new CompareSession(store, [a.id, b.id], p, { refreshMs: 50 });
  await session.handle({ type: 'ready', view: null });
  await session.handle({ type: 'view', view: { ...defaultViewState(), metrics: ['loss'] } });
  await session.handle({ type: 'requestSeries', requestId: 3, query: q });
  const start = sent.length;
  for (let step = 2; step < 12; step++) store.logMetrics(b.id, [{ key: 'loss', step, value: 1 / step }]);
  await until(() => sent.slice(start).some((m) => m.type === 'series'));
  await new Promise((r) => setTimeout(r, 120));
  const pushed = sent.slice(start);
  assert.deepEqual(pushed.map((m) => m.type), ['state', 'table', 'series'], 'ten writes, one refresh');
  const s = pushed[2] as Extract<HostMessage, { type: 'series' }>;
  assert.equal(s.requestId, 3);
  assert.equal(s.partial, true);
  assert.deepEqual(s.runs.map((r) => [r.runId, r.x.length]), [[b.id, 12]]);

  store.markEnded(b.id, { status: 'finished' });
  await until(() => sent.length > start + 3);
  // A run whose record changed may also have logged in that write, so its series may follow the state.
  await new Promise((r) => setTimeout(r, 120));
  const state = sent.slice(start + 3).findLast((m) => m.type === 'state');
  assert.equal(state?.type, 'state');
  assert.equal((state as Extract<HostMessage, { type: 'state' }>).state.live, false);
  session.dispose();
});

test('session: polling picks up writes from another process while a run is running', async () => {
  const { store, dbPath } = tempStore();
  const a = buildRun(store, { name: 'a', series: { loss: [1] } });
  store.markStarted(a.id, null);
  const { p, sent } = port();
  const session = new CompareSession(store, [a.id], p, { refreshMs: 10, pollMs: 30 });
  await session.handle({ type: 'ready', view: null });
  await session.handle({ type: 'requestSeries', requestId: 1, query: q });
  const start = sent.length;
  // Another connection, like the CLI in a terminal: no event reaches this store.
  const { Store } = await import('../../src/core/store/store.ts');
  const other = Store.open(dbPath);
  other.logMetrics(a.id, [{ key: 'loss', step: 1, value: 0.5 }]);
  other.close();
  await until(() => sent.slice(start).some((m) => m.type === 'series'));
  const s = sent.slice(start).find((m) => m.type === 'series') as Extract<HostMessage, { type: 'series' }>;
  assert.equal(s.runs[0]!.x.length, 2);
  session.dispose();
});

test('fileSafe', () => {
  assert.equal(fileSafe('val/loss'), 'val_loss');
  assert.equal(fileSafe('..\\x:y'), '_x_y');
  assert.equal(fileSafe(''), 'chart');
});
