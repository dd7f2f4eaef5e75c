import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { launchTrain, runboard, runNode, waitFor } from './helpers.ts';

describe('sidebar', () => {
  it('Show Runboard (the status bar item\'s command) focuses the Experiments view, which can reveal a run', async () => {
    const api = await runboard();
    const { runId } = await launchTrain({ epochs: 1 });
    await vscode.commands.executeCommand('runboard.focusView');
    await waitFor('the Experiments view to be visible', () => api.trees.experimentsView.visible, 5000);
    const node = await runNode(runId);
    assert.ok(node);
    assert.equal(api.trees.experiments.getParent(node)?.kind, 'experiment');
    // The product's path (the runs table's Enter), which survives VS Code reading the same parent at that moment.
    await api.testing.revealRun(runId);
    await waitFor('the run to be selected', () => api.trees.experimentsView.selection.some((n) => n.kind === 'run' && n.run.id === runId), 5000);
  });
});
