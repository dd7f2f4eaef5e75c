// The Compare panel inside a real VS Code extension host (scripts/vscode-test): commands, the
// webview round trip up to its `rendered` report, the code diff editor, hide and show again.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ComparePanel } from '../../../src/webviews/compare/comparePanel.ts';
import type { Services } from '../../../src/services.ts';

const XSS = '<img src=x onerror=alert(1)>';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Api {
  ComparePanel: typeof ComparePanel;
  services: Services;
  problems: string[];
}

function defineTests(): void {
  describe('Compare panel in a real extension host', function () {
    this.timeout(90_000);

    it('opens on a tree multi-selection, renders, diffs code, comes back after being hidden', async () => {
      const api = (await vscode.extensions.getExtension('runboard-it.runboard')!.activate()) as Api;
      const store = await api.services.store();
      const ids: number[] = [];
      for (const [name, lr] of [['baseline', 0.01], [XSS, 0.03], ['long', 0.02]] as const) {
        const run = store.createRun({ name, params: { lr, optimizer: 'adam' } });
        const n = name === 'long' ? 20_000 : 400;
        const every = name === 'long' ? 1 : 50;
        const points = Array.from({ length: n }, (_, i) => ({ key: 'loss', step: i * every, value: 2 * Math.exp((-i / n) * 4 * lr * 100) + 0.1 + 0.03 * Math.sin(i), wall: 1.7e12 + i * 100 }));
        store.logMetrics(run.id, points);
        store.setCodeState(run.id, { commit: `abc${run.id}`, branch: 'main', dirty: true, patch: `diff --git a/train.py b/train.py\n+lr = ${lr}\n`, patchTruncated: false });
        store.markEnded(run.id, { status: 'finished' });
        ids.push(run.id);
      }
      const nodes = ids.map((id) => ({ run: { id } }));
      await vscode.commands.executeCommand('runboard.compareRuns', nodes[0], nodes);
      const panel = api.ComparePanel.current;
      assert.ok(panel, 'the panel is open');
      const report = await panel.waitForRendered((r) => r.view === 'chart' && r.metric === 'loss' && r.series.length === 3, 60_000);
      assert.equal(report.series.find((s) => s.runId === ids[0])!.points, 400);
      assert.ok(report.series.find((s) => s.runId === ids[2])!.points <= 2000);

      await vscode.commands.executeCommand('runboard.showCodeDiff', ids[0], ids[1]);
      await sleep(1500);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab!;
      assert.ok(tab.input instanceof vscode.TabInputTextDiff, 'a diff editor');
      assert.equal(tab.label, `baseline ↔ ${XSS}`);
      assert.match((await vscode.workspace.openTextDocument(tab.input.original)).getText(), /commit: abc\d+/);

      // Hidden behind the diff, the webview was dropped; revealing it reloads it and it asks again.
      const before = panel.lastRendered;
      await vscode.commands.executeCommand('runboard.compareRuns', ids);
      const again = await panel.waitForRendered((r) => r !== before && r.view === 'chart' && r.series.length === 3, 60_000);
      assert.equal(again.series.length, 3);
      assert.equal(api.ComparePanel.current, panel, 'the same panel is revealed');
      await sleep(1000);
      assert.deepEqual(api.problems, [], 'no webview error or CSP report reached the log');
    });
  });
}

export async function run(): Promise<void> {
  const { default: Mocha } = await import('mocha');
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 20_000, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'compare', mocha);
  defineTests();
  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0 } = runner.stats ?? {};
      console.log(`${passes} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} test(s) failed.`));
      else resolve();
    });
  });
}
