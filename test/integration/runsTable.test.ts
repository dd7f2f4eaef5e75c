import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { runboard, store, waitFor } from './helpers.ts';

const XSS = '<img src=x onerror=alert(1)>';

describe('runs table', function () {
  this.timeout(90_000);

  it('Open Runs Table shows every run (sweep runs included); a new run appears live; its Compare action opens the compare panel', async () => {
    const api = await runboard();
    const db = await store();
    const sweep = db.createRun({ experiment: 'table', name: 'sweep', params: { seed: 1 } });
    const ids: number[] = [];
    for (const [name, lr] of [['table-a', 0.1], [XSS, 0.03], ['table-c', 0.01]] as const) {
      const run = db.createRun({ experiment: 'table', name, params: { lr }, parentId: sweep.id });
      db.logMetrics(run.id, [0.9, 0.5, lr].map((value, step) => ({ key: 'loss', step, value, wall: Date.now() + step })));
      db.markEnded(run.id, { status: 'finished' });
      ids.push(run.id);
    }
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    try {
      await vscode.commands.executeCommand('runboard.openRunsTable');
      const panel = await waitFor('the runs table', () => api.testing.runsTablePanel());
      const report = await panel.waitForRendered((r) => ids.every((id) => r.order.includes(id)), 60_000);
      assert.ok(report.order.includes(sweep.id), 'the sweep and its runs are rows');
      assert.ok(report.columns.includes('param:lr') && report.columns.includes('metric:loss'));
      assert.equal(report.total, db.runTable().length, 'every run of the workspace');

      // Live: a run created now joins the open table.
      const late = db.createRun({ experiment: 'table', name: 'late' });
      await panel.waitForRendered((r) => r.order.includes(late.id), 30_000);

      await panel.act('compare', [ids[0]!, ids[2]!]);
      const compare = await waitFor('the compare panel', () => api.testing.comparePanel());
      const drawn = await compare.waitForRendered((r) => r.view === 'chart' && r.series.length === 2, 60_000);
      assert.deepEqual(drawn.series.map((s) => s.runId).sort(), [ids[0], ids[2]].sort());

      assert.deepEqual(panel.problems, [], 'no script errors or CSP violations in the page');
    } finally {
      sub.dispose();
    }
    assert.deepEqual(errors, []);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
