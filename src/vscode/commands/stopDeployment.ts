import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import type { Deployment } from '../../core/deploy/types.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';
import { deploymentTokens } from './shared/tokens.ts';

/** Stop Deployment: takes a deployment id or a node of the Deployments view. */
export const stopDeploymentCommand: CommandSpec = {
  id: COMMANDS.stopDeployment,
  async run(container, _views, arg): Promise<Deployment | undefined> {
    container.trust.require('stop a deployment');
    const id = deploymentIdOf(arg);
    if (id === undefined) throw new UserError('Stop Deployment needs a deployment: run it from the Deployments view');
    const deployments = await container.deployments();
    const stopped = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Stopping deployment ${id}…` }, () => deployments.stop(id));
    // Nothing answers with it any more.
    if (stopped.status === 'stopped') await deploymentTokens(container).delete(id);
    return stopped;
  },
};

export function deploymentIdOf(arg: unknown): number | undefined {
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'string' && /^\d+$/.test(arg)) return Number(arg);
  const node = arg as { kind?: string; deployment?: Deployment } | undefined;
  return node?.kind === 'deployment' ? node.deployment?.id : undefined;
}
