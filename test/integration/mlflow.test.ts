import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import type { RunNode } from '../../src/vscode/views/experiments/nodes.ts';
import { runboard, store, waitFor } from './helpers.ts';

async function mlflowCall(url: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(`${url}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('MLflow tracking server of the window', () => {
  let url = '';
  let token = '';

  it('Copy MLflow Tracking URI copies a URI that answers 200 with the token and 401 without', async () => {
    const copied = await vscode.commands.executeCommand<string | undefined>('runboard.copyMlflowTrackingUri', { quiet: true });
    assert.ok(copied, 'the command returned the URI');
    assert.match(copied, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await vscode.env.clipboard.readText(), copied);
    url = copied;
    const environment = (await runboard()).container.context.environmentVariableCollection;
    assert.equal(environment.get('MLFLOW_TRACKING_URI')?.value, url);
    token = environment.get('MLFLOW_TRACKING_TOKEN')?.value ?? '';
    assert.match(token, /^[0-9a-f]{16,}$/);
    assert.equal(environment.persistent, false);
    assert.ok(environment.description, 'the terminal shows why its environment changed');

    assert.equal((await mlflowCall(url, 'experiments/get?experiment_id=0', token)).status, 200);
    const refused = await mlflowCall(url, 'experiments/get?experiment_id=0', undefined);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error_code, 'UNAUTHENTICATED');
  });

  it("a new integrated terminal has the window's MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN", async () => {
    assert.ok(url, 'the first test found the server');
    const dir = mkdtempSync(join(tmpdir(), 'runboard-terminal-'));
    const file = join(dir, 'env.txt');
    const terminal = vscode.window.createTerminal({ name: 'mlflow env', shellPath: '/bin/sh', shellArgs: ['-c', `env > '${file}.tmp' && mv '${file}.tmp' '${file}'`] });
    try {
      const env = await waitFor('the terminal to write its environment', () => existsSync(file) && readFileSync(file, 'utf8'));
      assert.ok(env.includes(`MLFLOW_TRACKING_URI=${url}\n`), env);
      assert.ok(env.includes(`MLFLOW_TRACKING_TOKEN=${token}\n`));
    } finally {
      terminal.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run logged over REST appears live in the Experiments tree', async () => {
    assert.ok(url, 'the first test found the server');
    const experiment = await mlflowCall(url, 'experiments/create', token, { name: 'logged-over-rest' });
    assert.equal(experiment.status, 200, JSON.stringify(experiment.json));
    const created = await mlflowCall(url, 'runs/create', token, {
      experiment_id: experiment.json.experiment_id,
      run_name: 'from-a-terminal',
      start_time: Date.now(),
      tags: [{ key: 'mlflow.runName', value: 'from-a-terminal' }],
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const runId = created.json.run.info.run_id as string;
    const logged = await mlflowCall(url, 'runs/log-metric', token, { run_id: runId, run_uuid: runId, key: 'loss', value: 0.25, timestamp: Date.now(), step: 1 });
    assert.equal(logged.status, 200, JSON.stringify(logged.json));

    const tree = (await runboard()).trees.experiments;
    const node = await waitFor('the run in the Experiments tree', async () => {
      const experimentNode = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === 'logged-over-rest');
      if (!experimentNode) return undefined;
      return (await tree.getChildren(experimentNode)).find((n): n is RunNode => n.kind === 'run' && n.run.name === 'from-a-terminal');
    });
    assert.equal(node.run.status, 'running');
  });

  it("a run launched from the editor gets the window's server and its own MLflow run id", async () => {
    assert.ok(url, 'the first test found the server');
    const script = join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'mlflow_env.py');
    writeFileSync(
      script,
      'import json, os\nwith open(os.path.join(os.environ["RUNBOARD_RUN_DIR"], "mlflow_env.json"), "w") as f:\n    json.dump({k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}, f)\n',
    );
    try {
      const result = await vscode.commands.executeCommand<{ runId: number; run: { status: string } }>('runboard.launchRun', { file: script, experiment: 'mlflow-env', wait: true });
      assert.equal(result?.run.status, 'finished');
      const run = (await store()).run(result.runId)!;
      const env = JSON.parse(readFileSync(join(run.runDir!, 'mlflow_env.json'), 'utf8')) as Record<string, string>;
      assert.deepEqual(env, { MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_TOKEN: token, MLFLOW_RUN_ID: run.mlflowId, MLFLOW_EXPERIMENT_ID: String(run.experimentId) });
    } finally {
      rmSync(script, { force: true });
    }
  });

  it('Copy MLflow Tracking URI is refused in Restricted Mode, with the reason', async () => {
    const api = await runboard();
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    api.testing.simulateUntrusted(true);
    try {
      assert.equal(await vscode.commands.executeCommand('runboard.copyMlflowTrackingUri', { quiet: true }), undefined);
    } finally {
      api.testing.simulateUntrusted(false);
      sub.dispose();
    }
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.trust, true);
    assert.match(errors[0]!.message, /cannot start the MLflow tracking server in Restricted Mode/);
  });
});
