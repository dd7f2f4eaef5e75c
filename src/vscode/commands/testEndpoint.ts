import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { ensureRealDir, writeFileNoFollow } from '../../core/io/safePaths.ts';
import { dataDirOf } from '../../core/workspace.ts';
import type { Deployments } from '../../core/deploy/deployments.ts';
import { LIVE_STATUSES, type Deployment } from '../../core/deploy/types.ts';
import { UserError } from '../../core/errors.ts';
import type { Registry } from '../../core/registry/registry.ts';
import type { Store } from '../../core/store/store.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';
import { parseInstances, sampleFromInputs, type Sample } from './shared/sample.ts';
import { deploymentTokens, tokenMatches } from './shared/tokens.ts';
import { deploymentIdOf } from './stopDeployment.ts';

export interface TestEndpointOptions {
  /** Rows to send instead of a sample of the run's data. */
  instances?: number[][];
  /** The token of a deployment made outside this window (kept for next time). */
  token?: string;
  /** Open the exchange in an editor (default true). */
  show?: boolean;
}

export interface TestEndpointResult {
  url: string;
  status: number;
  /** The parsed JSON response (or its text when it is not JSON). */
  body: unknown;
  instances: number[][];
  source: string;
  latencyMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;
const EXAMPLE = '{"instances": [[0.0, 0.0]]}';

/**
 * Test Endpoint: POSTs a few rows to a live deployment's /predict and shows the exchange (never
 * the token) in an untitled JSON document. The rows are the first ones of the source run's first
 * CSV input without its label column, when the run recorded one; otherwise it asks for JSON.
 * The token is the one kept when this window deployed it; one made by the CLI asks for it once.
 */
export const testEndpointCommand: CommandSpec = {
  id: COMMANDS.testEndpoint,
  async run(container, _views, ...args): Promise<TestEndpointResult | undefined> {
    const options = optionsOf<TestEndpointOptions>(args);
    // Called with an options object (tests, other extensions): no prompt for the request body.
    const programmatic = args.includes(options);
    const store = await container.store();
    const deployments = await container.deploymentRecords();
    const id = deploymentIdOf(args[0]) ?? (await pickLive(deployments));
    if (id === undefined) return undefined;
    const d = deployments.get(id);
    if (!LIVE_STATUSES.includes(d.status)) throw new UserError(`Deployment ${d.id} (${d.model}@${d.version}) is ${d.status}: nothing answers there`);
    if (!d.url) throw new UserError(`Deployment ${d.id} on ${d.target} has no URL to test${d.message ? `: ${d.message}` : ''}`);

    const token = await tokenOf(container, d, options.token);
    if (token === undefined) return undefined;
    if (!programmatic) return openRequest(container, store, d);
    const sample: Sample | undefined = options.instances ? { instances: parseInstances(JSON.stringify(options.instances)), source: 'given by the caller' } : sampleOf(store, await container.registry(), container.workspace, d);
    if (!sample) throw new UserError(`No sample for deployment ${d.id}: its run recorded no CSV input. Pass { instances: [[…]] }.`);
    return send(container, { ...d, url: d.url }, token, sample, options.show !== false);
  },
};

/** POSTs the rows to the deployment's /predict; shows the exchange read-only when asked. */
export async function send(container: Container, d: Deployment & { url: string }, token: string, sample: Sample, show: boolean): Promise<TestEndpointResult> {
  const url = `${d.url.replace(/\/+$/, '')}/predict`;
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ instances: sample.instances }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new UserError(`${url} did not answer: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const latencyMs = Date.now() - started;
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  // A token that the server refuses is not worth keeping.
  if (response.status === 401) await deploymentTokens(container).delete(d.id);
  const result: TestEndpointResult = { url, status: response.status, body, instances: sample.instances, source: sample.source, latencyMs };
  container.log.info(`Test Endpoint: deployment ${d.id} answered ${response.status} in ${latencyMs} ms`);
  if (show) {
    const exchange = { request: { url, source: sample.source, instances: sample.instances }, status: response.status, latencyMs, response: body };
    await showAnswer(container, d, exchange);
  }
  return result;
}

/** The editable request of a deployment: `.runboard/requests/deployment-<id>.json`. */
export function requestFileOf(workspace: string, deploymentId: number): string {
  return join(dataDirOf(workspace), 'requests', `deployment-${deploymentId}.json`);
}

/** The deployment a request file is for, from its name; undefined for any other file. */
export function deploymentOfRequest(workspace: string, file: string): number | undefined {
  const match = /^deployment-(\d+)\.json$/.exec(basename(file));
  return match && dirname(file) === dirname(requestFileOf(workspace, 0)) ? Number(match[1]) : undefined;
}

/**
 * Opens the deployment's request for editing: the last one sent there, else a sample of its run's
 * data, else an example. It is a real file (ignored by git with the rest of `.runboard/`), so it
 * closes without a "Save?" and is there next time. Sending is the Send Test Request command.
 */
async function openRequest(container: Container, store: Store, d: Deployment): Promise<undefined> {
  const file = requestFileOf(container.workspace, d.id);
  if (!existsSync(file)) {
    const sample = sampleOf(store, await container.registry(), container.workspace, d);
    ensureRealDir(dataDirOf(container.workspace), dirname(file));
    writeFileNoFollow(file, sample ? `${JSON.stringify({ instances: sample.instances }, null, 2)}\n` : `${EXAMPLE}\n`);
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  void vscode.window.showInformationMessage(`Edit the request to ${d.model}@${d.version}, then send it (also from the editor's title bar).`, SEND).then((choice) => {
    if (choice === SEND) void vscode.commands.executeCommand(COMMANDS.sendTestRequest, vscode.Uri.file(file));
  });
  return undefined;
}

const SEND = 'Send';
const ANSWER_SCHEME = 'runboard-answer';
const answers = new Map<string, string>();
let answerProvider: vscode.Disposable | undefined;

/** The exchange in a read-only document (a virtual one: nothing to save when it closes). */
async function showAnswer(container: Container, d: Deployment, exchange: unknown): Promise<void> {
  if (!answerProvider) {
    answerProvider = container.own(
      vscode.workspace.registerTextDocumentContentProvider(ANSWER_SCHEME, { provideTextDocumentContent: (uri) => answers.get(uri.path) ?? '' }),
    );
    container.own({ dispose: () => ((answerProvider = undefined), answers.clear()) });
  }
  const path = `/${d.model}@${d.version} answer ${new Date().toISOString().slice(11, 19).replaceAll(':', '.')}.json`;
  answers.set(path, `${JSON.stringify(exchange, null, 2)}\n`);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: ANSWER_SCHEME, path }));
  await vscode.languages.setTextDocumentLanguage(document, 'json');
  await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

/** The stored token, else the one given, else asked for once (and checked against the recorded hash). */
export async function tokenOf(container: Container, d: Deployment, given: string | undefined): Promise<string | undefined> {
  const tokens = deploymentTokens(container);
  if (given !== undefined) {
    if (!tokenMatches(d, given)) throw new UserError(`That is not the token of deployment ${d.id}`);
    await tokens.set(d, given);
    return given;
  }
  const stored = await tokens.get(d);
  if (stored !== undefined) return stored;
  const typed = await vscode.window.showInputBox({
    title: `Bearer token of deployment ${d.id} (${d.model}@${d.version})`,
    prompt: 'It was deployed outside this window (e.g. with the runboard CLI), so VS Code does not have its token. It is kept in the OS keychain for next time.',
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() && tokenMatches(d, text.trim()) ? undefined : 'This is not the token of this deployment'),
  });
  if (typed === undefined) return undefined;
  await tokens.set(d, typed.trim());
  return typed.trim();
}

/** A sample of the source run's data (or, if the run was deleted, of the inputs its registration recorded). */
function sampleOf(store: Store, registry: Registry, workspace: string, d: Deployment): Sample | undefined {
  const version = registry.byId(d.modelVersionId);
  if (!version || version.runId === null) return undefined;
  const inputs = store.run(version.runId) ? store.inputs(version.runId) : (version.snapshot.inputs ?? []);
  return sampleFromInputs(inputs, workspace);
}

async function pickLive(deployments: Deployments): Promise<number | undefined> {
  const live = deployments.list().filter((d) => LIVE_STATUSES.includes(d.status) && d.url);
  if (live.length === 0) throw new UserError('No deployment is running: deploy a model first (Runboard: Deploy Model…).');
  const picked = await vscode.window.showQuickPick(
    live.map((d) => ({ label: `${d.model}@${d.version} → ${d.target}`, description: d.url ?? '', id: d.id })),
    { title: 'Test Endpoint', placeHolder: 'Which deployment?' },
  );
  return picked?.id;
}
