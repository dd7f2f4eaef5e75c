import * as vscode from 'vscode';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import type { ExperimentsNode, GroupKind, GroupNode, RunNode } from '../../src/vscode/views/experiments/nodes.ts';
import type { RunboardApi } from '../../src/vscode/extension.ts';
import type { Store } from '../../src/core/store/store.ts';

export const EXTENSION_ID = 'runboard.runboard';
export const EXPERIMENT = 'fixture';

let api: RunboardApi | undefined;

/** The extension's exported API, activated once for the whole suite. */
export async function runboard(): Promise<RunboardApi> {
  if (api) return api;
  const extension = vscode.extensions.getExtension<RunboardApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed in this host`);
  api = await extension.activate();
  return api;
}

export async function store(): Promise<Store> {
  return (await runboard()).container.store();
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, everyMs));
  }
}

/** Launches the fixture's `train` profile through the command, as a test or another extension would. */
export async function launchTrain(params: Record<string, string | number | boolean> = {}, wait = true): Promise<LaunchResult> {
  const result = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { profile: 'train', params, wait });
  if (!result) throw new Error('runboard.launchRun returned nothing (see the reported error)');
  return result;
}

/** The run's node under its experiment in the Experiments tree, as VS Code would get it. */
export async function runNode(runId: number, experiment = EXPERIMENT): Promise<RunNode | undefined> {
  const tree = (await runboard()).trees.experiments;
  const experimentNode = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === experiment);
  if (!experimentNode) return undefined;
  return (await tree.getChildren(experimentNode)).find((n): n is RunNode => n.kind === 'run' && n.run.id === runId);
}

export async function group(node: RunNode, kind: GroupKind): Promise<GroupNode> {
  const tree = (await runboard()).trees.experiments;
  const found = (await tree.getChildren(node)).find((n): n is GroupNode => n.kind === 'group' && n.group === kind);
  if (!found) throw new Error(`run ${node.run.id} has no ${kind} group`);
  return found;
}

export async function children(node: ExperimentsNode): Promise<ExperimentsNode[]> {
  return (await runboard()).trees.experiments.getChildren(node);
}
