import * as vscode from 'vscode';
import type { CommandContext } from '../commands/shared/context.ts';
import { COMMANDS } from '../commands/ids.ts';
import { UserError } from '../../core/errors.ts';
import type { RunNode } from './experiments/nodes.ts';

/**
 * Selects a run in the Experiments view. A run the filter hides, or one on a page not loaded yet,
 * cannot be revealed: its output opens instead, with a word on why.
 */
export async function revealRun(ctx: CommandContext, runId: number): Promise<void> {
  const store = await ctx.services.store();
  const run = store.run(runId);
  if (!run) throw new UserError(`Run ${runId} was deleted`);
  const tree = ctx.trees.experiments;
  const experiment = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === run.experiment);
  const node = experiment && (await tree.getChildren(experiment)).find((n): n is RunNode => n.kind === 'run' && n.run.id === runId);
  if (!node) {
    void vscode.window.showInformationMessage(`Run ${run.id} (${run.name}) is not shown in the Experiments view (filtered out or not loaded yet): opening its output instead.`);
    await vscode.commands.executeCommand(COMMANDS.openRunOutput, runId);
    return;
  }
  await ctx.trees.experimentsView.reveal(node, { select: true, focus: true, expand: true });
}

export async function revealModelVersion(ctx: CommandContext, versionId: number): Promise<void> {
  const tree = ctx.trees.models;
  for (const model of await tree.getChildren()) {
    const version = (await tree.getChildren(model)).find((n) => n.kind === 'version' && n.version.id === versionId);
    if (version) {
      await ctx.trees.modelsView.reveal(version, { select: true, focus: true });
      return;
    }
  }
  throw new UserError(`Model version ${versionId} was deleted`);
}

export async function revealDeployment(ctx: CommandContext, deploymentId: number): Promise<void> {
  const node = (await ctx.trees.deployments.getChildren()).find((n) => n.kind === 'deployment' && n.deployment.id === deploymentId);
  if (!node) throw new UserError(`Deployment ${deploymentId} is not listed any more (only the newest ended deployments are)`);
  await ctx.trees.deploymentsView.reveal(node, { select: true, focus: true });
}
