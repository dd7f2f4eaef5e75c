import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ReportedError } from '../../src/commands/shared/report.ts';
import { launchTrain, runboard, runNode, waitFor } from './helpers.ts';

/** Wiring only: the compare panel's own behaviour is tested with the webview. */
describe('compare', () => {
  it('Compare Selected Runs on a multi-selection of run nodes opens the compare panel', async () => {
    const api = await runboard();
    const a = await launchTrain({ epochs: 2, lr: 0.1 });
    const b = await launchTrain({ epochs: 2, lr: 0.3 });
    const [nodeA, nodeB] = [await runNode(a.runId), await runNode(b.runId)];
    assert.ok(nodeA && nodeB);
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    try {
      // As a context menu passes it: (clicked node, selected nodes).
      await vscode.commands.executeCommand('runboard.compareRuns', nodeA, [nodeA, nodeB]);
      await waitFor('a webview tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview), 10_000);
    } finally {
      sub.dispose();
    }
    assert.deepEqual(errors, []);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
