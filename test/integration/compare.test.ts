import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { launchTrain, runboard, runNode, store, waitFor } from './helpers.ts';

const XSS = '<img src=x onerror=alert(1)>';

describe('compare', function () {
  this.timeout(90_000);

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
      const panel = await waitFor('the compare panel', () => api.testing.comparePanel());
      const report = await panel.waitForRendered((r) => r.view === 'chart' && r.series.length === 2, 60_000);
      assert.deepEqual(report.series.map((s) => s.runId).sort(), [a.runId, b.runId].sort());
    } finally {
      sub.dispose();
    }
    assert.deepEqual(errors, []);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('draws 3 runs with the right points, keeps an XSS name as text, diffs code, and redraws after being hidden', async () => {
    const api = await runboard();
    const db = await store();
    const ids: number[] = [];
    for (const [name, lr] of [['baseline', 0.01], [XSS, 0.03], ['long', 0.02]] as const) {
      const run = db.createRun({ experiment: 'compare', name, params: { lr, optimizer: 'adam' } });
      const n = name === 'long' ? 20_000 : 400;
      const every = name === 'long' ? 1 : 50;
      const points = Array.from({ length: n }, (_, i) => ({ key: 'loss', step: i * every, value: 2 * Math.exp((-i / n) * 4 * lr * 100) + 0.1, wall: Date.now() + i }));
      db.logMetrics(run.id, points);
      db.setCodeState(run.id, { commit: `abc${run.id}`, branch: 'main', dirty: true, patch: `diff --git a/train.py b/train.py\n+lr = ${lr}\n`, patchTruncated: false });
      db.markEnded(run.id, { status: 'finished' });
      ids.push(run.id);
    }
    await vscode.commands.executeCommand('runboard.compareRuns', ids.map((id) => ({ run: { id } })));
    const panel = await waitFor('the compare panel', () => api.testing.comparePanel());
    const report = await panel.waitForRendered((r) => r.view === 'chart' && r.metric === 'loss' && r.series.length === 3, 60_000);
    assert.equal(report.series.find((s) => s.runId === ids[0])!.points, 400, 'a short series arrives whole');
    const long = report.series.find((s) => s.runId === ids[2])!.points;
    assert.ok(long > 500 && long <= 2000, `a 20,000-point series arrives downsampled (${long} points)`);

    await vscode.commands.executeCommand('runboard.showCodeDiff', ids[0], ids[1]);
    const tab = await waitFor('the diff editor', () => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.input instanceof vscode.TabInputTextDiff ? active : undefined;
    });
    assert.equal(tab.label, `baseline ↔ ${XSS}`, 'the run name is shown as text');
    const original = (tab.input as vscode.TabInputTextDiff).original;
    assert.match((await vscode.workspace.openTextDocument(original)).getText(), new RegExp(`commit: abc${ids[0]}`));

    // Hidden behind the diff, the webview was dropped; revealing it reloads it from its state.
    const before = panel.lastRendered;
    await vscode.commands.executeCommand('runboard.compareRuns', ids);
    const again = await panel.waitForRendered((r) => r !== before && r.view === 'chart' && r.series.length === 3, 60_000);
    assert.equal(again.series.length, 3);
    assert.equal(api.testing.comparePanel(), panel, 'the same panel is revealed');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Compare and Diff Code go through the command table: their errors reach the reporter, not the host', async () => {
    const api = await runboard();
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    try {
      const result = await vscode.commands.executeCommand('runboard.showCodeDiff', 999_998, 999_999);
      assert.equal(result, undefined);
    } finally {
      sub.dispose();
    }
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.command, 'runboard.showCodeDiff');
    assert.equal(errors[0]!.user, true);
    assert.match(errors[0]!.message, /No run 999998/);
  });
});
