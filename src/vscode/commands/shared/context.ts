import type * as vscode from 'vscode';
import type { RunboardServices } from '../../host.ts';
import type { Trust } from '../../trust.ts';
import type { DatabaseChanges } from '../../views/changes.ts';
import type { DeploymentLogs } from '../../views/deploymentLogs.ts';
import type { DeploymentsNode, DeploymentsTree } from '../../views/deployments.ts';
import type { ExperimentsTree } from '../../views/experiments/tree.ts';
import type { ModelsNode, ModelsTree } from '../../views/models.ts';
import type { CommandId } from '../ids.ts';
import type { ActiveRuns } from './activeRuns.ts';
import type { Reporter } from './report.ts';

export interface Trees {
  experiments: ExperimentsTree;
  experimentsView: vscode.TreeView<unknown>;
  models: ModelsTree;
  modelsView: vscode.TreeView<ModelsNode>;
  deployments: DeploymentsTree;
  deploymentsView: vscode.TreeView<DeploymentsNode>;
}

/** What every command handler gets: the services, the views and the in-process runs. */
export interface CommandContext {
  services: RunboardServices;
  trust: Trust;
  runs: ActiveRuns;
  changes: DatabaseChanges;
  trees: Trees;
  reporter: Reporter;
  /** The read-only documents Show Logs opens. */
  deploymentLogs: DeploymentLogs;
}

/**
 * One command: its id and handler. Handlers take plain arguments when called programmatically
 * (tests, other extensions) and prompt only for what is missing; they throw, and the registry
 * reports the error (see report.ts).
 */
export interface CommandSpec {
  id: CommandId;
  run(ctx: CommandContext, ...args: unknown[]): unknown;
}
