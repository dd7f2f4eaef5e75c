// The Lineage panel's presenter runs without VS Code, behind its port, like CompareSession.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { change } from '../../src/core/store/changes.ts';
import type { HostMessage } from '../../src/shared/lineageProtocol.ts';
import { LineagePresenter, parseRoot } from '../../src/vscode/webviews/lineage/presenter.ts';
import { tempStore } from './helpers.ts';

function presenter() {
  const { store, workspace } = tempStore();
  const run = store.createRun({ name: 'trainer' });
  const posted: HostMessage[] = [];
  const titles: string[] = [];
  const shownErrors: string[] = [];
  const opened: string[] = [];
  const p = new LineagePresenter(store, workspace, { kind: 'run', id: run.id }, {
    post: (m) => posted.push(m),
    setTitle: (t) => titles.push(t),
    open: async (node) => {
      opened.push(node.key);
      throw new Error('cannot open');
    },
    showError: (text) => shownErrors.push(text),
    log: () => undefined,
  });
  return { store, run, p, posted, titles, shownErrors, opened };
}

test('nothing is built before the page is ready; ready sends the graph once, an unchanged rebuild sends nothing', async () => {
  const { store, run, p, posted, titles } = presenter();
  p.refresh();
  assert.equal(posted.length, 0);
  await p.handle({ type: 'ready' });
  assert.equal(posted.length, 1);
  assert.equal(posted[0]!.type, 'graph');
  assert.deepEqual(titles, [`Lineage of run ${run.id}`]);
  p.refresh();
  assert.equal(posted.length, 1, 'the same graph is not sent again');
  store.markEnded(run.id, { status: 'finished' });
  p.refresh();
  assert.equal(posted.length, 2, 'a changed run is');
  p.webviewHidden();
  store.markEnded(run.id, { status: 'failed' });
  p.refresh();
  assert.equal(posted.length, 2, 'a hidden page gets nothing until it is ready again');
  await p.handle({ type: 'ready' });
  assert.equal(posted.length, 3);
});

test('only changes that can alter the graph rebuild it; metric points never do', async () => {
  const { run, p } = presenter();
  await p.handle({ type: 'ready' });
  assert.equal(p.affectedBy(change({ metrics: [run.id] })), false);
  assert.equal(p.affectedBy(change({ runs: [run.id] })), true);
  assert.equal(p.affectedBy(change({ runs: [run.id + 1] })), true, 'a newer run may be a re-run of a shown one');
  assert.equal(p.affectedBy(change({ runs: [run.id - 1] })), false);
  assert.equal(p.affectedBy(change({ deletedRuns: [run.id] })), true);
  assert.equal(p.affectedBy(change({ deployments: [1] })), true);
  assert.equal(p.affectedBy(change({ everything: true })), true);
});

test('opening a node that fails shows the error instead of throwing; roots parse from text', async () => {
  const { run, p, shownErrors, opened } = presenter();
  await p.handle({ type: 'ready' });
  await p.handle({ type: 'open', key: `run:${run.id}` });
  assert.deepEqual(opened, [`run:${run.id}`]);
  assert.deepEqual(shownErrors, ['cannot open']);
  assert.deepEqual(parseRoot('deployment:4'), { kind: 'deployment', id: 4 });
  assert.equal(parseRoot('model:4'), undefined);
});

test('the page reports what it drew; a new root forgets the old drawing, so a wait sees the new one', async () => {
  const { store, run, p } = presenter();
  await p.handle({ type: 'ready' });
  const drawn = { root: `run:${run.id}`, nodes: [], edges: 0, ms: 1 };
  await p.handle({ type: 'rendered', report: drawn });
  assert.equal(await p.render.waitForRendered(), drawn);
  const other = store.createRun({ name: 'other' });
  p.setRoot({ kind: 'run', id: other.id });
  assert.equal(p.render.lastRendered, null);
  const waiting = p.render.waitForRendered();
  const redrawn = { ...drawn, root: `run:${other.id}` };
  await p.handle({ type: 'rendered', report: redrawn });
  assert.equal(await waiting, redrawn);
});
