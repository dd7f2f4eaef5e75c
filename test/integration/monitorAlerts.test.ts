import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Deployments, type DeployResult } from '../../src/core/deploy/deployments.ts';
import { LIVE_STATUSES } from '../../src/core/deploy/types.ts';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import type { Crossing } from '../../src/vscode/monitorAlerts.ts';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { SHIFTED, TRAIN } from '../fixtures/monitorTraining.ts';
import { runboard, store, waitFor } from './helpers.ts';

/** Debian's Python, the one with scikit-learn. */
const SYSTEM_PYTHON = '/usr/bin/python3';
/** The shortest cadence the setting allows, so the test waits seconds, not a minute. */
const CHECK_SECONDS = 10;

describe('monitoring alerts with nothing of Runboard on screen', function () {
  this.timeout(180_000);
  const workspace = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const config = () => vscode.workspace.getConfiguration('runboard');
  const errors: ReportedError[] = [];
  const subscriptions: vscode.Disposable[] = [];
  /** The Deployments view is shown again afterwards if it was, for the suites that follow. */
  let deploymentsShown = false;

  before(async () => {
    const api = await runboard();
    subscriptions.push(api.onDidReportError((e) => errors.push(e)));
    await config().update('pythonInterpreter', SYSTEM_PYTHON, vscode.ConfigurationTarget.Workspace);
    await config().update('monitor.checkIntervalSeconds', CHECK_SECONDS, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    for (const s of subscriptions) s.dispose();
    const deployments = new Deployments(await store(), { workspace: workspace(), settings: {} });
    for (const d of deployments.list()) if (LIVE_STATUSES.includes(d.status)) await deployments.stop(d.id).catch(() => undefined);
    await config().update('monitor.checkIntervalSeconds', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('pythonInterpreter', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (deploymentsShown) await vscode.commands.executeCommand('runboard.deployments.focus');
  });

  it('a drift notifies with the sidebar closed and no Monitor open; the notification opens the Monitor', async () => {
    const api = await runboard();
    const monitor = api.testing.deploymentMonitor;
    writeFileSync(join(workspace(), 'monitor_train.py'), TRAIN);
    const trained = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { file: 'monitor_train.py', experiment: 'alerts', wait: true, terminal: false });
    assert.ok(trained, JSON.stringify(errors));
    assert.equal(trained.run.status, 'finished', trained.run.error ?? '');
    const deployed = await vscode.commands.executeCommand<DeployResult | undefined>('runboard.deployModel', vscode.Uri.file(join(trained.run.runDir!, 'model.pkl')), { target: 'local', name: 'alert-model' });
    assert.ok(deployed, JSON.stringify(errors));
    const d = deployed.deployment;
    assert.equal(d.status, 'running', d.error ?? '');
    assert.equal(d.config.baselineRows, 500, 'Deploy Model… passes runboard.monitor.baselineRows');

    // Nothing of Runboard on screen: the watcher looks at the setting's cadence, not the view's.
    deploymentsShown = api.trees.deploymentsView.visible;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await waitFor('the Deployments view hidden', () => !api.trees.deploymentsView.visible);
    await waitFor('the idle cadence', () => monitor.cadenceMs === CHECK_SECONDS * 1000);

    const crossings: Crossing[] = [];
    subscriptions.push(monitor.onDidCross((c) => crossings.push(c)));
    await vscode.commands.executeCommand('notifications.clearAll');
    const traffic = JSON.parse(readFileSync(join(trained.run.runDir!, 'traffic.json'), 'utf8')) as { shifted: number[][] };
    const res = await fetch(`${d.url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${deployed.token}` }, body: JSON.stringify({ instances: traffic.shifted }), signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);

    const crossing = await waitFor('the crossing', () => crossings.find((c) => c.deployment === d.id), 60_000);
    assert.deepEqual(crossing.crossed.features, SHIFTED);
    assert.equal(api.trees.deploymentsView.visible, false, 'noticed with the view still hidden');
    assert.equal(api.testing.monitorPanel(d.id), undefined);

    // The notification is there: its first action, Open Monitor, opens this deployment's panel.
    const panel = await waitFor(
      'the Monitor opened from the notification',
      async () => {
        await vscode.commands.executeCommand('notification.acceptPrimaryAction');
        return api.testing.monitorPanel(d.id);
      },
      30_000,
      1000,
    );
    const rendered = await panel.waitForRendered((r) => r.deployment === d.id && r.driftedCells > 0, 30_000);
    assert.ok(rendered.driftedCells > 0);
    assert.equal(crossings.filter((c) => c.deployment === d.id).length, 1, 'one notification for one crossing');
    assert.deepEqual(errors, []);
  });
});
