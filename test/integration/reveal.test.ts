import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { EXPERIMENT, runboard, runNode, store, waitFor } from './helpers.ts';

/**
 * VS Code answers a read of a tree item it has read before from its own cache until the tree
 * refreshes that item. These tests read the tree for a run (as revealRun and tests do) before the
 * run's creation has reached the views, then reveal it: VS Code must have been told to read again.
 */
describe('reveal in the Experiments view', () => {
  let s: Store;
  let shown: Run;
  const announced = new Set<number>();
  const created: number[] = [];
  let sub: vscode.Disposable;

  beforeEach(async () => {
    const api = await runboard();
    s = await store();
    sub = api.container.changes.onDidChange((change) => change.runs.forEach((id) => announced.add(id)));
    await vscode.commands.executeCommand('runboard.focusView');
    await waitFor('the Experiments view to be visible', () => api.trees.experimentsView.visible, 5000);
    // VS Code holds the experiments and the fixture's runs: it read them to show this one.
    shown = createRun(EXPERIMENT);
    await waitFor('the run to reach the views', () => announced.has(shown.id));
    await api.testing.revealRun(shown.id);
  });

  afterEach(() => {
    sub.dispose();
    for (const id of created.splice(0)) s.deleteRun(id);
  });

  function createRun(experiment: string): Run {
    const run = s.createRun({ experiment, name: 'reveal' });
    created.push(run.id);
    return run;
  }

  /** Creates a run in the experiment, reads the tree for it before it is announced, then reveals it. */
  async function revealReadEarly(experiment: string): Promise<void> {
    // A write reaches the views at once after a quiet spell, the next one only when 400 ms have
    // passed (src/core/refresh.ts): so the run, created right after a write, is announced late...
    s.logMetrics(shown.id, [{ key: 'loss', step: 0, value: 1 }]);
    const run = createRun(experiment);
    // ...and no timer can run before this read.
    const api = await runboard();
    const node = await runNode(run.id, run.experiment);
    assert.ok(node, 'the tree lists the new run');
    assert.ok(!announced.has(run.id), 'read before the run was announced');
    await waitFor('the run to reach the views', () => announced.has(run.id));
    // The product's reveal: it outlasts VS Code reading the same parent at that moment, never a parent it was not told to read again.
    await api.testing.revealRun(run.id);
    await waitFor('the run to be selected', () => api.trees.experimentsView.selection.some((n) => n.kind === 'run' && n.run.id === run.id), 5000);
  }

  it('reveals a new run of an experiment VS Code shows', async () => {
    await revealReadEarly(EXPERIMENT);
  });

  it('reveals the first run of a new experiment', async () => {
    // Named to sort after the fixture's experiment, so other tests see it first.
    await revealReadEarly('zz-reveal');
  });
});
