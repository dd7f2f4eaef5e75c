import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXPERIMENT, runboard, runNode, store, waitFor } from './helpers.ts';

describe('reveal in the Experiments view', () => {
  it('reveals a run the tree was read for (as revealRun does) before the run reached the view', async () => {
    const api = await runboard();
    const s = await store();
    const view = api.trees.experimentsView;
    const announced = new Set<number>();
    const sub = api.container.changes.onDidChange((change) => change.runs.forEach((id) => announced.add(id)));
    const created: number[] = [];
    try {
      await vscode.commands.executeCommand('runboard.focusView');
      await waitFor('the Experiments view to be visible', () => view.visible, 5000);
      // VS Code holds the experiment's runs: it read them to show this one.
      const shown = s.createRun({ experiment: EXPERIMENT, name: 'reveal-shown' });
      created.push(shown.id);
      await waitFor('the first run to reach the views', () => announced.has(shown.id));
      await view.reveal((await runNode(shown.id))!, { select: false, focus: false, expand: false });

      // A write reaches the views at once after a quiet spell, the next one only when 400 ms have
      // passed (src/core/refresh.ts): a run created right after a write is announced late...
      s.logMetrics(shown.id, [{ key: 'loss', step: 0, value: 1 }]);
      const late = s.createRun({ experiment: EXPERIMENT, name: 'reveal-late' });
      created.push(late.id);
      // ...and the tree is read for it before that (no timer can run between these lines).
      const node = await runNode(late.id);
      assert.ok(node, 'the tree lists the new run');
      assert.ok(!announced.has(late.id), 'read before the run was announced');
      await waitFor('the new run to reach the views', () => announced.has(late.id));

      await view.reveal(node, { select: true, focus: false });
      await waitFor('the new run to be selected', () => view.selection.some((n) => n.kind === 'run' && n.run.id === late.id), 5000);
    } finally {
      sub.dispose();
      for (const id of created) s.deleteRun(id);
    }
  });
});
