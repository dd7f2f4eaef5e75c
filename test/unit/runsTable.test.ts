// The runs table's store query and its presenter, on plain Node against a real temporary store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { change } from '../../src/core/store/changes.ts';
import type { HostMessage, TableRun, TableView } from '../../src/shared/runsTableProtocol.ts';
import { DEFAULT_VIEW } from '../../src/shared/runsTableProtocol.ts';
import { RunsTablePresenter } from '../../src/vscode/webviews/runsTable/presenter.ts';
import { buildRun, tempStore } from './helpers.ts';

test('runTable: every run with params, tags, metric summaries (NaN and ±Inf kept), commit and first model file, in five statements', () => {
  const { store } = tempStore();
  const a = buildRun(store, { name: 'a', params: JSON.parse('{"lr": 0.1, "__proto__": "x"}') as Record<string, number | string>, series: { loss: [1, Infinity, NaN], acc: [0.5, 0.9] } });
  const sweep = buildRun(store, { name: 'sweep' });
  const child = buildRun(store, { name: 'child', parentId: sweep.id, series: { acc: [-Infinity] } });
  store.setTags(a.id, { owner: 'me' });
  store.setCodeState(a.id, { commit: 'abcdef1234567', branch: 'main', dirty: true, patch: null, patchTruncated: false });
  store.addArtifact(a.id, { path: 'model/z.pkl', size: 1, sha256: 'x', kind: 'model' });
  store.addArtifact(a.id, { path: 'model/b.pt', size: 1, sha256: 'y', kind: 'model' });
  store.addArtifact(a.id, { path: 'a.csv', size: 1, sha256: 'z', kind: 'data' });
  const before = store.statementsExecuted;
  const rows = store.runTable();
  assert.equal(store.statementsExecuted - before, 5);
  assert.deepEqual(rows.map((r) => r.name), ['child', 'sweep', 'a'], 'newest first');
  const row = rows.find((r) => r.id === a.id)!;
  assert.equal(row.params.lr, '0.1');
  assert.equal(Object.getOwnPropertyDescriptor(row.params, '__proto__')?.value, 'x', '__proto__ is a param like any other');
  assert.deepEqual(row.tags, { owner: 'me' });
  assert.equal(row.commit, 'abcdef1234567');
  assert.equal(row.dirty, true);
  assert.equal(row.modelArtifact, 'model/b.pt');
  assert.ok(Number.isNaN(row.metrics.loss!.last));
  assert.equal(row.metrics.loss!.min, 1, 'min and max over finite values only');
  assert.equal(row.metrics.loss!.max, 1);
  assert.equal(row.metrics.loss!.nonfinite, 2);
  assert.equal(row.metrics.acc!.last, 0.9);
  const childRow = rows.find((r) => r.id === child.id)!;
  assert.equal(childRow.parentId, sweep.id);
  assert.equal(childRow.metrics.acc!.last, -Infinity);
  assert.ok(Number.isNaN(childRow.metrics.acc!.min));
  assert.deepEqual(store.runTable([a.id, 999]).map((r) => r.id), [a.id], 'only the ids asked that exist');
  store.softDeleteRun(child.id);
  assert.deepEqual(store.runTable().map((r) => r.id), [sweep.id, a.id], 'a run deleted through the MLflow API is not listed');
  assert.deepEqual(store.runTable([child.id]), []);
});

function presenter(saved?: TableView) {
  const { store } = tempStore();
  const posted: HostMessage[] = [];
  const executed: { action: string; runs: TableRun[] }[] = [];
  const errors: string[] = [];
  const views: TableView[] = [];
  const p = new RunsTablePresenter(store, {
    post: (m) => posted.push(m),
    execute: async (action, runs) => {
      executed.push({ action, runs: [...runs] });
      if (action === 'delete') throw new Error('disk on fire');
    },
    open: async () => {},
    loadView: () => saved,
    saveView: (v) => views.push(v),
    showError: (t) => errors.push(t),
    log: () => {},
  });
  return { store, p, posted, executed, errors, views };
}

test('the presenter sends every run on ready (NaN and Inf as words), then only what a change names', async () => {
  const view = { ...DEFAULT_VIEW, filter: 'status = running' };
  const { store, p, posted } = presenter(view);
  const a = buildRun(store, { name: 'a', series: { loss: [NaN], val_loss: [Infinity] } });
  const b = buildRun(store, { name: 'b' });
  p.changed(change({ runs: [a.id] }));
  assert.equal(posted.length, 0, 'nothing before the page is ready');
  await p.handle({ type: 'ready' });
  const first = posted[0]!;
  assert.equal(first.type, 'runs');
  if (first.type !== 'runs') return;
  assert.deepEqual(first.runs.map((r) => r.id), [b.id, a.id]);
  assert.deepEqual(first.view, view);
  const wire = first.runs.find((r) => r.id === a.id)!.metrics;
  assert.equal(wire.loss![0], 'NaN');
  assert.equal(wire.val_loss![0], 'Infinity');
  assert.deepEqual(first.directions, { loss: 'min', val_loss: 'min' });
  // JSON (postMessage) keeps them.
  assert.equal(JSON.parse(JSON.stringify(first)).runs[1].metrics.loss[0], 'NaN');

  store.logMetrics(b.id, [{ key: 'acc', step: 0, value: 0.5, wall: 1 }]);
  p.changed(change({ metrics: [b.id] }));
  const update = posted[1]!;
  assert.equal(update.type, 'update');
  if (update.type !== 'update') return;
  assert.deepEqual(update.runs.map((r) => r.id), [b.id]);
  assert.equal(update.runs[0]!.metrics.acc![0], 0.5);
  assert.deepEqual(update.directions, { acc: 'max' });

  store.deleteRun(a.id);
  p.changed(change({ deletedRuns: [a.id] }));
  assert.deepEqual(posted[2], { ...posted[2], type: 'update', runs: [], deleted: [a.id] });
  p.changed(change({ deletedRuns: [a.id] }));
  assert.equal(posted.length, 3, 'a run the page does not hold is not deleted twice');
  p.changed(change({ models: ['m'] }));
  assert.equal(posted.length, 3, 'a change to no run sends nothing');
  p.webviewHidden();
  p.changed(change({ runs: [b.id] }));
  assert.equal(posted.length, 3, 'nothing while the page is hidden');
});

test('actions reach the port with the runs the page holds; a failing command is shown, not thrown; views are kept', async () => {
  const { store, p, executed, errors, views } = presenter();
  const a = buildRun(store, { name: 'a' });
  await p.handle({ type: 'ready' });
  await p.handle({ type: 'action', action: 'compare', runIds: [a.id, 12345] });
  assert.deepEqual(executed.map((e) => [e.action, e.runs.map((r) => r.id)]), [['compare', [a.id]]]);
  await p.handle({ type: 'action', action: 'delete', runIds: [a.id] });
  assert.deepEqual(errors, ['disk on fire']);
  await p.handle({ type: 'saveView', view: { ...DEFAULT_VIEW, hideConstant: true } });
  assert.equal(views[0]!.hideConstant, true);
});
