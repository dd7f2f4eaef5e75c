import * as vscode from 'vscode';
import { startRetrain } from '../../core/monitor/retrain.ts';
import { COMMANDS } from '../commandIds.ts';
import { pickDeployment } from './openMonitor.ts';
import { optionsOf } from './shared/args.ts';
import type { CommandSpec } from './command.ts';
import { launchTracked, type LaunchResult } from './shared/launching.ts';
import { deploymentIdOf } from './stopDeployment.ts';

export interface RetrainOptions {
  name?: string;
  /** Resolve when the run has ended (tests). */
  wait?: boolean;
  terminal?: boolean;
}

/**
 * Retrain from Production Data: re-runs the run that made the deployed model (same command or
 * profile, params and inputs) with the rows the deployment served, as a CSV named by
 * RUNBOARD_PRODUCTION_DATA; lineage links the deployment to the new run. It runs the workspace's
 * training code, so Restricted Mode refuses it like a launch.
 */
export const retrainDeploymentCommand: CommandSpec = {
  id: COMMANDS.retrainDeployment,
  async run(container, _views, ...args): Promise<LaunchResult | undefined> {
    container.trust.require('retrain a model');
    const options = optionsOf<RetrainOptions>(args);
    const store = await container.store();
    let id = deploymentIdOf(args[0]);
    const interactive = id === undefined;
    id ??= await pickDeployment(container, 'Retrain from Production Data');
    if (id === undefined) return undefined;
    const deployment = id;
    let rows = 0;
    const handle = await launchTracked(
      container,
      async (output) => {
        const started = await startRetrain(store, deployment, { dbPath: container.dbPath, workspace: container.workspace, name: options.name }, output);
        rows = started.rows;
        return started.handle;
      },
      { terminal: options.terminal, interactive },
    );
    void vscode.window.showInformationMessage(`Runboard: retraining on ${rows} served rows of deployment ${deployment} (run ${handle.run.id}).`);
    const run = options.wait ? await handle.done : (store.run(handle.run.id) ?? handle.run);
    return { runId: run.id, run };
  },
};
