import * as vscode from 'vscode';
import type { DeployResult } from '../../core/deploy/deployments.ts';
import { LIVE_STATUSES, type Deployment } from '../../core/deploy/types.ts';
import { UserError } from '../../core/errors.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { CommandSpec } from './command.ts';
import { DEPLOY_ANYWAY, overridingGates } from './shared/gates.ts';
import { deploymentTokens } from './shared/tokens.ts';
import { deploymentIdOf } from './stopDeployment.ts';

export interface RollbackOptions {
  /** Skip the confirmation (programmatic callers). */
  confirmed?: boolean;
  force?: boolean;
}

const ROLL_BACK = 'Roll Back';

/**
 * Rollback…: stops a deployment and serves an earlier version of its model on the same target and
 * port (the one deployed there before, else the newest older version). Asks first. The known
 * token is carried over, so clients keep working.
 */
export const rollbackDeploymentCommand: CommandSpec = {
  id: COMMANDS.rollbackDeployment,
  async run(container, _views, ...args): Promise<DeployResult | undefined> {
    container.trust.require('roll back a deployment');
    const options = optionsOf<RollbackOptions>(args);
    const deployments = await container.deployments();
    const id = deploymentIdOf(args[0]) ?? (await pickDeployment(deployments.list()));
    if (id === undefined) return undefined;
    const d = deployments.get(id);
    if (d.version <= 1) throw new UserError(`Nothing to roll back to: ${d.model} has no version older than ${d.version}`);
    if (!options.confirmed) {
      const choice = await vscode.window.showWarningMessage(
        `Roll back ${d.model}@${d.version} on ${d.target}?`,
        { modal: true, detail: `Deployment ${d.id} stops, and the version deployed there before it (else the newest older one) is deployed in its place${d.port ? ` on port ${d.port}` : ''}.` },
        ROLL_BACK,
      );
      if (choice !== ROLL_BACK) return undefined;
    }
    const tokens = deploymentTokens(container);
    const token = await tokens.get(d);
    const result = await overridingGates(
      (force) =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Runboard: rolling back ${d.model}@${d.version} on ${d.target}…` }, () =>
          deployments.rollback(d.id, { token, force }),
        ),
      { ...DEPLOY_ANYWAY, force: options.force, ask: !options.confirmed },
    );
    if (!result) return undefined;
    const next = result.deployment;
    await tokens.delete(d.id);
    if (next.status !== 'failed') await tokens.set(next, result.token);
    container.log.info(`Deployment ${d.id} rolled back: ${next.model}@${next.version} → ${next.target}: ${next.status}${next.url ? ` at ${next.url}` : ''} (deployment ${next.id})`);
    if (next.status === 'failed') throw new UserError(`Rolling back to ${next.model}@${next.version} failed: ${next.error ?? 'see its logs'}`);
    if (!options.confirmed) void vscode.window.showInformationMessage(`${d.model} on ${d.target} is back at version ${next.version}${next.url ? ` (${next.url})` : ''}.`);
    return result;
  },
};

/** From the palette: the serving deployments that have an older version to go back to. */
async function pickDeployment(all: Deployment[]): Promise<number | undefined> {
  const candidates = all.filter((d) => d.version > 1 && LIVE_STATUSES.includes(d.status));
  if (candidates.length === 0) throw new UserError('No deployment to roll back: none is serving a version with an older one before it');
  const picked = await vscode.window.showQuickPick(
    candidates.map((d) => ({ label: `$(rocket) ${d.model}@${d.version}`, description: `${d.target}${d.url ? ` · ${d.url}` : ''}`, detail: `deployment ${d.id}`, id: d.id })),
    { title: 'Roll Back Deployment', placeHolder: 'Pick the deployment to roll back' },
  );
  return picked?.id;
}
