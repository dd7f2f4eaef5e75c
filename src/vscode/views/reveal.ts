import * as vscode from 'vscode';
import { COMMANDS } from '../commandIds.ts';
import type { Container } from '../container.ts';
import { UserError } from '../../core/errors.ts';
import type { RunNode } from './experiments/nodes.ts';
import type { Views } from './views.ts';

/**
 * Selects a run in the Experiments view. A run the filter hides, or one on a page not loaded yet,
 * cannot be revealed: its output opens instead, with a word on why.
 */
export async function revealRun(container: Container, views: Views, runId: number): Promise<void> {
  const store = await container.store();
  const run = store.run(runId);
  if (!run) throw new UserError(`Run ${runId} was deleted`);
  // Read as VS Code would, but not counted as shown: VS Code reads and refreshes on its own (see ExperimentsTree).
  const tree = views.experiments;
  const experiment = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === run.experiment);
  const node = experiment && (await tree.getChildren(experiment)).find((n): n is RunNode => n.kind === 'run' && n.run.id === runId);
  if (!node) {
    void vscode.window.showInformationMessage(`Run ${run.id} (${run.name}) is not shown in the Experiments view (filtered out or not loaded yet): opening its output instead.`);
    await vscode.commands.executeCommand(COMMANDS.openRunOutput, runId);
    return;
  }
  await revealIn(views.experimentsView, node, { select: true, focus: true, expand: true });
}

export async function revealModelVersion(views: Views, versionId: number): Promise<void> {
  const tree = views.models;
  for (const model of await tree.getChildren()) {
    const version = (await tree.getChildren(model)).find((n) => n.kind === 'version' && n.version.id === versionId);
    if (version) {
      await revealIn(views.modelsView, version, { select: true, focus: true });
      return;
    }
  }
  throw new UserError(`Model version ${versionId} was deleted`);
}

export async function revealDeployment(views: Views, deploymentId: number): Promise<void> {
  const node = (await views.deployments.getChildren()).find((n) => n.kind === 'deployment' && n.deployment.id === deploymentId);
  if (!node) throw new UserError(`Deployment ${deploymentId} is not listed any more (only the newest ended deployments are)`);
  await revealIn(views.deploymentsView, node, { select: true, focus: true });
}

/** Tries before a reveal's error is the user's: the race below lasts one read of the parent. */
const REVEAL_ATTEMPTS = 10;
const REVEAL_PAUSE_MS = 200;

/**
 * `TreeView.reveal`, again when it lost a race inside VS Code. Its reveal reads the node's parent
 * (ExtHostTreeView._resolveTreeNode → _fetchChildrenNodes); when VS Code reads the same parent for
 * the view at that moment (the view just opened, or a refresh landed), the older read is dropped
 * by its fetch token and the reveal fails with "Cannot resolve tree item" although the node is
 * listed. Once the view's own read has landed, the same reveal succeeds.
 */
async function revealIn<T>(view: vscode.TreeView<T>, node: T, options: { select: boolean; focus: boolean; expand?: boolean }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await view.reveal(node, options);
      return;
    } catch (err) {
      if (attempt >= REVEAL_ATTEMPTS || !/Cannot resolve tree item/.test((err as Error).message)) throw err;
      await new Promise((done) => setTimeout(done, REVEAL_PAUSE_MS));
    }
  }
}
