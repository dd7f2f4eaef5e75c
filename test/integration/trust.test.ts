import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { EXPERIMENT, launchTrain, runboard, store } from './helpers.ts';

/**
 * The harness opens the workspace trusted (--disable-workspace-trust), so the untrusted path is
 * taken through the API's simulateUntrusted, which can only remove trust. The handlers check
 * trust themselves, so these calls go exactly where a palette or keybinding call would.
 */
describe('workspace trust', () => {
  let finishedRunId: number;

  before(async () => {
    finishedRunId = (await launchTrain({ epochs: 1 })).runId;
    (await runboard()).testing.simulateUntrusted(true);
  });

  after(async () => {
    (await runboard()).testing.simulateUntrusted(false);
  });

  async function refused(command: string, ...args: unknown[]): Promise<ReportedError> {
    const api = await runboard();
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    try {
      const result = await vscode.commands.executeCommand(command, ...args);
      assert.equal(result, undefined, `${command} returned a result while untrusted`);
    } finally {
      sub.dispose();
    }
    assert.equal(errors.length, 1, `${command} reported ${errors.length} errors`);
    assert.equal(errors[0]!.trust, true);
    assert.match(errors[0]!.message, /Restricted Mode/);
    return errors[0]!;
  }

  it('launching, sweeping, re-running, stopping and deploying are refused with an explanation', async () => {
    const s = await store();
    const runsBefore = s.countRuns();
    await refused('runboard.launchRun', { profile: 'train', wait: true });
    await refused('runboard.launchSweep', { profile: 'train', wait: true });
    await refused('runboard.rerun', finishedRunId, { wait: true });
    await refused('runboard.stopRun', finishedRunId);
    await refused('runboard.deployModel', { model: 'fixture-model', target: 'local' });
    assert.equal(s.countRuns(), runsBefore, 'no run was recorded');
  });

  it('the views still read the recorded runs', async () => {
    const tree = (await runboard()).trees.experiments;
    const experiment = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === EXPERIMENT);
    assert.ok(experiment);
    const runs = await tree.getChildren(experiment);
    assert.ok(runs.some((n) => n.kind === 'run' && n.run.id === finishedRunId));
  });
});
