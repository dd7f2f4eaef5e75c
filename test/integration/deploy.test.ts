import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import type { TestEndpointResult } from '../../src/vscode/commands/testEndpoint.ts';
import { Deployments, type DeployResult } from '../../src/core/deploy/deployments.ts';
import { LIVE_STATUSES } from '../../src/core/deploy/types.ts';
import { MODEL_EXTENSIONS } from '../../src/core/modelFiles.ts';
import { Registry, type ModelVersion } from '../../src/core/registry/registry.ts';
import type { DeploymentsNode } from '../../src/vscode/views/deployments.ts';
import type { RunNode } from '../../src/vscode/views/experiments/nodes.ts';
import type { ModelsNode } from '../../src/vscode/views/models.ts';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { EXTENSION_ID, runboard, store, waitFor } from './helpers.ts';

/** Debian's Python, the one with scikit-learn. */
const SYSTEM_PYTHON = '/usr/bin/python3';

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}

/** The regex of a `resourceExtname =~ /…/flags` clause, as VS Code evaluates it. */
function extnameRegex(when: string): RegExp {
  const m = /resourceExtname =~ \/(.+?)\/([a-z]*)(?:\s|$)/.exec(when);
  assert.ok(m, `no resourceExtname clause in ${when}`);
  return new RegExp(m[1]!, m[2]);
}

async function deploymentNode(id: number): Promise<Extract<DeploymentsNode, { kind: 'deployment' }> | undefined> {
  const nodes = await (await runboard()).trees.deployments.getChildren();
  return nodes.find((n): n is Extract<DeploymentsNode, { kind: 'deployment' }> => n.kind === 'deployment' && n.deployment.id === id);
}

describe('registry and deploy from the editor', function () {
  this.timeout(120_000);
  const workspace = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const errors: ReportedError[] = [];
  let subscription: vscode.Disposable | undefined;
  let trained: LaunchResult;

  before(async () => {
    const api = await runboard();
    subscription = api.onDidReportError((e) => errors.push(e));
    // Runs launched from a file use this interpreter; the model server then uses the run's.
    await vscode.workspace.getConfiguration('runboard').update('pythonInterpreter', SYSTEM_PYTHON, vscode.ConfigurationTarget.Workspace);
    const launched = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', {
      file: 'sk_train.py',
      inputs: ['sk_data.csv'],
      experiment: 'sklearn',
      wait: true,
      terminal: false,
    });
    assert.ok(launched, `the training run did not launch: ${JSON.stringify(errors)}`);
    assert.equal(launched.run.status, 'finished', launched.run.error ?? '');
    trained = launched;
  });

  // Every server started here is stopped, also when an assertion failed halfway.
  after(async () => {
    subscription?.dispose();
    const deployments = new Deployments(await store(), { workspace: workspace(), settings: {} });
    for (const d of deployments.list()) if (LIVE_STATUSES.includes(d.status)) await deployments.stop(d.id).catch(() => undefined);
    await vscode.workspace.getConfiguration('runboard').update('pythonInterpreter', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the Explorer context menu offers Deploy (trusted only) and Register on every model file kind', () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { menus: Record<string, MenuEntry[]> } };
    const explorer = manifest.contributes.menus['explorer/context'] ?? [];
    const deploy = explorer.find((e) => e.command === 'runboard.deployModel');
    const register = explorer.find((e) => e.command === 'runboard.registerModel');
    assert.ok(deploy?.when && register?.when, 'Deploy and Register are in explorer/context');
    for (const entry of [deploy, register]) {
      const regex = extnameRegex(entry.when!);
      for (const ext of MODEL_EXTENSIONS) assert.ok(regex.test(ext), `${entry.command} on ${ext}`);
      for (const ext of ['.py', '.csv', '.pkl.bak', '']) assert.ok(!regex.test(ext), `${entry.command} not on "${ext}"`);
    }
    assert.match(deploy.when!, /isWorkspaceTrusted/);
    assert.doesNotMatch(register.when!, /isWorkspaceTrusted/, 'registering copies a file, it runs nothing');
  });

  it('Register on a .pkl outside any run registers it with no lineage', async () => {
    const loose = join(workspace(), 'loose-model.pkl');
    writeFileSync(loose, readFileSync(join(trained.run.runDir!, 'model.pkl')));
    const version = await vscode.commands.executeCommand<ModelVersion | undefined>('runboard.registerModel', vscode.Uri.file(loose), { name: 'loose-model' });
    assert.ok(version, JSON.stringify(errors));
    assert.equal(version.runId, null);
    assert.equal(version.noLineage, true);
    assert.match(version.snapshot.note ?? '', /not from a run/);
  });

  it("Deploy on a run's .pkl deploys it (registered with its lineage), runs in the Deployments view, answers Test Endpoint, shows its lineage, stops", async () => {
    const api = await runboard();
    const s = await store();
    const pkl = join(trained.run.runDir!, 'model.pkl');
    const started = Date.now();
    const result = await vscode.commands.executeCommand<DeployResult | undefined>('runboard.deployModel', vscode.Uri.file(pkl), { target: 'local', name: 'sk-model' });
    assert.ok(result, `deploy returned nothing: ${JSON.stringify(errors)}`);
    const d = result.deployment;
    assert.equal(d.status, 'running', d.error ?? '');
    console.log(`      deployed in ${Date.now() - started} ms (server healthy after ${result.elapsedMs} ms)`);
    const version = new Registry(s, workspace()).byId(d.modelVersionId)!;
    assert.equal(version.runId, trained.runId, 'matched to its run');
    assert.equal(version.snapshot.artifact?.path, 'model.pkl');

    // The Deployments view: running, with a theme-coloured icon and the menus' context.
    const node = await waitFor('the deployment in the Deployments view', async () => {
      const n = await deploymentNode(d.id);
      return n?.deployment.status === 'running' ? n : undefined;
    });
    const item = api.trees.deployments.getTreeItem(node);
    assert.match(String(item.contextValue), /^deployment\.live\.logs\.url$/);
    assert.ok(item.iconPath instanceof vscode.ThemeIcon && item.iconPath.id === 'vm-running' && item.iconPath.color);
    assert.match(String(item.description), /127\.0\.0\.1:\d+ · no requests yet/);

    // Test Endpoint: the token kept at deploy time, rows from the run's CSV input minus its label.
    const expected = JSON.parse(readFileSync(join(trained.run.runDir!, 'expected.json'), 'utf8')) as { rows: number[][]; predictions: number[] };
    const answer = await vscode.commands.executeCommand<TestEndpointResult | undefined>('runboard.testEndpoint', node, { show: false });
    assert.ok(answer, JSON.stringify(errors));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.instances, expected.rows);
    assert.deepEqual((answer.body as { predictions: number[] }).predictions, expected.predictions);
    assert.match(answer.source, /sk_data\.csv without its "label" column/);

    // The request shows in the view's description once the log moved.
    const counted = await waitFor('the request in the description', async () => {
      const n = await deploymentNode(d.id);
      const description = n && String(api.trees.deployments.getTreeItem(n).description);
      return description?.includes('1 req') ? description : undefined;
    });
    assert.match(counted, /1 req · 0% err · p50 [\d.]+ ms · p95 [\d.]+ ms/);

    // From the palette or the view: the request opens as a file to edit; Send posts it as edited
    // (saving it) and the answer opens read-only, nothing to save.
    await vscode.commands.executeCommand('runboard.testEndpoint', node);
    const request = await waitFor('the request file', () => vscode.window.activeTextEditor?.document.fileName.endsWith(`deployment-${d.id}.json`) && vscode.window.activeTextEditor);
    assert.deepEqual((JSON.parse(request.document.getText()) as { instances: number[][] }).instances, expected.rows);
    const whole = new vscode.Range(request.document.positionAt(0), request.document.positionAt(request.document.getText().length));
    assert.ok(await request.edit((edit) => edit.replace(whole, JSON.stringify({ instances: [expected.rows[0]] }))));
    const sent = await vscode.commands.executeCommand<TestEndpointResult | undefined>('runboard.sendTestRequest');
    assert.equal(sent?.status, 200, JSON.stringify(errors));
    assert.deepEqual((sent.body as { predictions: number[] }).predictions, [expected.predictions[0]]);
    assert.equal(request.document.isDirty, false, 'the sent request is saved');
    const shown = await waitFor('the read-only answer', () => vscode.workspace.textDocuments.find((doc) => doc.uri.scheme === 'runboard-answer'));
    assert.match(shown.getText(), /"status": 200/);

    // Show Logs: the server's output and the request, in a read-only document.
    const logs = await vscode.commands.executeCommand<vscode.TextDocument | undefined>('runboard.showDeploymentLogs', node);
    assert.ok(logs);
    assert.match(logs.getText(), /## server\.out\n\{"event": "listening"[\s\S]*## Requests \(\d+\)\n[\s\S]* POST \/predict 200 /);
    assert.doesNotMatch(logs.getText(), new RegExp(result.token), 'the token never shows');

    // The lineage panel on the deployment: dataset (fingerprint) → run (commit) → version → deployment.
    await vscode.commands.executeCommand('runboard.revealLineage', node);
    const panel = api.testing.lineagePanel();
    assert.ok(panel, 'the lineage panel is open');
    const report = await panel.waitForRendered((r) => r.root === `deployment:${d.id}`, 60_000);
    assert.deepEqual(report.nodes.map((n) => [n.kind, n.column]), [['dataset', 0], ['run', 1], ['model_version', 2], ['deployment', 3]]);
    assert.equal(report.edges, 3);
    const input = s.inputs(trained.runId)[0]!;
    const commit = s.codeState(trained.runId)?.commit;
    assert.ok(commit, 'the fixture workspace is a git repository');
    assert.ok(report.nodes.find((n) => n.kind === 'dataset')!.details.includes(input.fingerprint), 'dataset fingerprint');
    assert.ok(report.nodes.find((n) => n.kind === 'run')!.details.some((t) => t.startsWith(commit)), 'commit');
    assert.match(report.nodes.find((n) => n.kind === 'deployment')!.text, /running/);
    // Enter on the run node: the run is selected in the Experiments view.
    await panel.openNode(`run:${trained.runId}`);
    await waitFor('the run selected in Experiments', () => api.trees.experimentsView.selection.some((n) => (n as RunNode).kind === 'run' && (n as RunNode).run.id === trained.runId));
    // …and on the model version and the deployment, they are selected in their views.
    await panel.openNode(`model_version:${version.id}`);
    await waitFor('the version selected in Models', () => api.trees.modelsView.selection.some((n) => n.kind === 'version' && n.version.id === version.id));
    await panel.openNode(`deployment:${d.id}`);
    await waitFor('the deployment selected in Deployments', () => api.trees.deploymentsView.selection.some((n) => n.kind === 'deployment' && n.deployment.id === d.id));

    // Visible with something live, the Deployments view is watched (and only then).
    await vscode.commands.executeCommand('runboard.deployments.focus');
    await waitFor('the monitor timer', () => api.testing.deploymentMonitor.running);

    // Stop: the server goes, the view and the open panel follow.
    const stopped = await vscode.commands.executeCommand<{ status: string } | undefined>('runboard.stopDeployment', node);
    assert.equal(stopped?.status, 'stopped');
    await waitFor('the stopped deployment in the view', async () => (await deploymentNode(d.id))?.deployment.status === 'stopped');
    await waitFor('no timer with nothing live', () => !api.testing.deploymentMonitor.running);
    await panel.waitForRendered((r) => /stopped/.test(r.nodes.find((n) => n.kind === 'deployment')?.text ?? ''), 30_000);
    await assert.rejects(fetch(`${d.url}/health`), 'nothing answers any more');
    assert.deepEqual(panel.problems, [], 'no script error or CSP violation in the webview');
    assert.deepEqual(errors, []);
  });

  it('a deployment made outside the editor asks for its token once; Test Endpoint keeps it', async () => {
    // As the CLI would: straight through the core, so the editor never saw the token.
    const deployments = new Deployments(await store(), { workspace: workspace(), settings: {} });
    const version = new Registry(await store(), workspace()).resolve('sk-model');
    const result = await deployments.deploy(version, { target: 'local' });
    assert.equal(result.deployment.status, 'running', result.deployment.error ?? '');
    const id = result.deployment.id;
    try {
      const wrong = await vscode.commands.executeCommand('runboard.testEndpoint', id, { token: 'not-the-token', show: false });
      assert.equal(wrong, undefined);
      assert.match(errors.pop()?.message ?? '', /not the token/);
      const first = await vscode.commands.executeCommand<TestEndpointResult | undefined>('runboard.testEndpoint', id, { token: result.token, show: false });
      assert.equal(first?.status, 200);
      const again = await vscode.commands.executeCommand<TestEndpointResult | undefined>('runboard.testEndpoint', id, { show: false });
      assert.equal(again?.status, 200, 'the token was kept');
    } finally {
      await deployments.stop(id);
    }
  });

  it('Models view: metrics and aliases, Set Alias, Compare with Champion; Rollback serves the previous version with the same token', async () => {
    const api = await runboard();
    const second = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { file: 'sk_train.py', inputs: ['sk_data.csv'], experiment: 'sklearn', wait: true, terminal: false });
    assert.equal(second?.run.status, 'finished');
    const register = (runId: number, aliases: string[]) => vscode.commands.executeCommand<ModelVersion | undefined>('runboard.registerModel', { runId, artifact: 'model.pkl', name: 'sk-pair', aliases });
    assert.equal((await register(trained.runId, ['champion']))?.version, 1);
    assert.equal((await register(second!.runId, []))?.version, 2);

    const model = await waitFor('the model in the Models view', async () => (await api.trees.models.getChildren()).find((n) => n.kind === 'model' && n.model.name === 'sk-pair'));
    const versions = (await api.trees.models.getChildren(model)) as Extract<ModelsNode, { kind: 'version' }>[];
    const [v2, v1] = versions;
    assert.deepEqual([v2!.version.version, v1!.version.version], [2, 1]);
    const [item2, item1] = [api.trees.models.getTreeItem(v2!), api.trees.models.getTreeItem(v1!)];
    assert.equal(item2.contextValue, 'modelVersion.run.challenger');
    assert.equal(item1.contextValue, 'modelVersion.run');
    assert.match(String(item1.description), /^champion · acc 1 · run \d+$/);
    assert.ok(item1.iconPath instanceof vscode.ThemeIcon && item1.iconPath.id === 'star-full');
    const tooltip = await api.trees.models.resolveTreeItem(item2, v2!);
    const text = (tooltip.tooltip as vscode.MarkdownString).value;
    assert.match(text, /Commit/);
    assert.match(text, /sk\\_data\.csv|sk_data\.csv/);

    const move = await vscode.commands.executeCommand<{ toVersion: number; fromVersion: number | null } | undefined>('runboard.setModelAlias', v2, { alias: 'staging' });
    assert.deepEqual([move?.fromVersion, move?.toVersion], [null, 2]);
    assert.equal(new Registry(await store(), workspace()).resolve('sk-pair@staging').version, 2);

    const compared = await vscode.commands.executeCommand<[number, number] | undefined>('runboard.compareWithChampion', v2);
    assert.deepEqual(compared, [trained.runId, second!.runId]);
    await waitFor('the compare panel on both runs', () => api.testing.comparePanel()?.runIds.join() === compared!.join());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    const deployed = await vscode.commands.executeCommand<DeployResult | undefined>('runboard.deployModel', v2, { target: 'local' });
    assert.equal(deployed?.deployment.status, 'running', deployed?.deployment.error ?? JSON.stringify(errors));
    const node = (await deploymentNode(deployed!.deployment.id))!;
    assert.match(String(api.trees.deployments.getTreeItem(node).contextValue), /\.rollback/);
    const rolled = await vscode.commands.executeCommand<DeployResult | undefined>('runboard.rollbackDeployment', node, { confirmed: true });
    assert.ok(rolled, JSON.stringify(errors));
    try {
      assert.equal(rolled.deployment.version, 1);
      assert.equal(rolled.deployment.replacesId, deployed!.deployment.id);
      assert.equal(rolled.token, deployed!.token, 'clients keep their token');
      assert.equal((await deploymentNode(deployed!.deployment.id))?.deployment.status, 'stopped');
      const answer = await vscode.commands.executeCommand<TestEndpointResult | undefined>('runboard.testEndpoint', rolled.deployment.id, { show: false });
      assert.equal(answer?.status, 200);
    } finally {
      await vscode.commands.executeCommand('runboard.stopDeployment', rolled.deployment.id);
    }
    assert.deepEqual(errors, []);
  });

  it('deploying is refused in Restricted Mode, and so is registering a pickle no run wrote', async () => {
    const api = await runboard();
    api.testing.simulateUntrusted(true);
    try {
      const loose = vscode.Uri.file(join(workspace(), 'loose-model.pkl'));
      const before = errors.length;
      assert.equal(await vscode.commands.executeCommand('runboard.deployModel', loose, { target: 'local', name: 'loose-model' }), undefined);
      assert.equal(errors.length, before + 1);
      assert.equal(errors.pop()!.trust, true);
      assert.equal(await vscode.commands.executeCommand('runboard.registerModel', loose, { name: 'loose-model' }), undefined);
      assert.equal(errors.pop()!.trust, true);
    } finally {
      api.testing.simulateUntrusted(false);
    }
  });
});
