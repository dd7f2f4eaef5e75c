import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Deployments, type DeployResult } from '../../src/core/deploy/deployments.ts';
import { LIVE_STATUSES } from '../../src/core/deploy/types.ts';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import type { DeploymentsNode } from '../../src/vscode/views/deployments.ts';
import { SHIFTED, TRAIN } from '../fixtures/monitorTraining.ts';
import { runboard, store, waitFor } from './helpers.ts';

/** Debian's Python, the one with scikit-learn. */
const SYSTEM_PYTHON = '/usr/bin/python3';

async function post(url: string, token: string, body: unknown): Promise<{ ids: number[] }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return (await res.json()) as { ids: number[] };
}

describe('monitoring in the editor', function () {
  this.timeout(180_000);
  const workspace = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const errors: ReportedError[] = [];
  let subscription: vscode.Disposable | undefined;

  before(async () => {
    const api = await runboard();
    subscription = api.onDidReportError((e) => errors.push(e));
    await vscode.workspace.getConfiguration('runboard').update('pythonInterpreter', SYSTEM_PYTHON, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    subscription?.dispose();
    (await runboard()).testing.simulateUntrusted(false);
    const deployments = new Deployments(await store(), { workspace: workspace(), settings: {} });
    for (const d of deployments.list()) if (LIVE_STATUSES.includes(d.status)) await deployments.stop(d.id).catch(() => undefined);
    await vscode.workspace.getConfiguration('runboard').update('pythonInterpreter', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a deployed sklearn model with a reference: Open Monitor shows it live; shifted rows badge the deployment; Retrain runs on the served rows, refused in Restricted Mode', async () => {
    const api = await runboard();
    writeFileSync(join(workspace(), 'monitor_train.py'), TRAIN);
    const trained = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { file: 'monitor_train.py', experiment: 'monitoring', wait: true, terminal: false });
    assert.ok(trained, JSON.stringify(errors));
    assert.equal(trained.run.status, 'finished', trained.run.error ?? '');
    const deployed = await vscode.commands.executeCommand<DeployResult | undefined>('runboard.deployModel', vscode.Uri.file(join(trained.run.runDir!, 'model.pkl')), { target: 'local', name: 'drift-model' });
    assert.ok(deployed, JSON.stringify(errors));
    const d = deployed.deployment;
    assert.equal(d.status, 'running', d.error ?? '');
    const traffic = JSON.parse(readFileSync(join(trained.run.runDir!, 'traffic.json'), 'utf8')) as { live: number[][]; labels: number[]; shifted: number[][] };

    // In distribution, labelled: the panel shows the reference, no drift, and live accuracy.
    const { ids } = await post(`${d.url}/predict`, deployed.token, { instances: traffic.live });
    await post(`${d.url}/feedback`, deployed.token, { ids, labels: traffic.labels });
    assert.equal(await vscode.commands.executeCommand('runboard.openMonitor', d.id), d.id);
    const panel = api.testing.monitorPanel(d.id);
    assert.ok(panel, 'the monitor panel is open');
    const calm = await panel.waitForRendered((r) => r.deployment === d.id && !r.empty.includes('performance'), 60_000);
    assert.deepEqual(calm.empty, []);
    assert.equal(calm.driftedCells, 0);
    assert.equal(panel.currentReport?.reference?.source, 'training');
    assert.equal(panel.currentReport?.drift?.drifted, false);

    // Shifted rows: the open panel follows, and the deployment's item wears the drift badge.
    await post(`${d.url}/predict`, deployed.token, { instances: traffic.shifted });
    await vscode.commands.executeCommand('runboard.deployments.focus');
    const badged = await waitFor(
      'the drift badge',
      async () => {
        const nodes = await api.trees.deployments.getChildren();
        const node = nodes.find((n): n is Extract<DeploymentsNode, { kind: 'deployment' }> => n.kind === 'deployment' && n.deployment.id === d.id);
        const item = node && api.trees.deployments.getTreeItem(node);
        return item?.iconPath instanceof vscode.ThemeIcon && item.iconPath.id === 'warning' ? item : undefined;
      },
      30_000,
    );
    assert.ok(badged.iconPath instanceof vscode.ThemeIcon && badged.iconPath.color, 'a theme colour');
    assert.match(String(badged.description), /^127\.0\.0\.1:\d+ · drift · \d+ req/);
    // The tooltip's text is escaped markdown: spaces come as &nbsp;.
    assert.match((badged.tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' '), new RegExp(`\\*\\*Monitoring\\*\\* +\\ndrift in ${SHIFTED.join(', ')}\\.`));
    // The histogram keeps the feature it showed (the page does not jump under the user); the heatmap marks the drift.
    const drifted = await panel.waitForRendered((r) => r.driftedCells > 0, 30_000);
    assert.deepEqual(panel.currentReport?.drift?.features.filter((f) => f.drifted).map((f) => f.name), SHIFTED);
    assert.ok(drifted.driftedCells > 0);
    assert.deepEqual(panel.problems, [], 'no script error or CSP violation in the webview');

    // Retrain: refused in Restricted Mode like a launch; trusted, it re-runs on the served rows.
    api.testing.simulateUntrusted(true);
    assert.equal(await vscode.commands.executeCommand('runboard.retrainDeployment', d.id, { wait: true, terminal: false }), undefined);
    assert.match(errors.pop()?.message ?? '', /cannot retrain a model in Restricted Mode/);
    api.testing.simulateUntrusted(false);
    const retrained = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.retrainDeployment', d.id, { wait: true, terminal: false });
    assert.ok(retrained, JSON.stringify(errors));
    assert.equal(retrained.run.status, 'finished', retrained.run.error ?? '');
    const s = await store();
    assert.ok(s.downstream('deployment', d.id).some((e) => e.relation === 'retrain' && e.dstKind === 'run' && e.dstId === retrained.runId), 'lineage: deployment → retrain run');
    assert.ok(s.inputs(retrained.runId).some((input) => /production-\d+\.csv$/.test(input.path)), 'the served rows are an input');
    assert.deepEqual(errors, []);
  });
});
