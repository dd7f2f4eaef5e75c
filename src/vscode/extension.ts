import * as vscode from 'vscode';
import { registerCommands } from './commands/register.ts';
import { ActiveRuns } from './commands/shared/activeRuns.ts';
import type { CommandContext, Trees } from './commands/shared/context.ts';
import { Reporter, type ReportedError } from './commands/shared/report.ts';
import { RunboardServices } from './host.ts';
import type { Services } from './services.ts';
import { affects, SETTINGS } from './settings.ts';
import { RunsStatusBar } from './statusBar.ts';
import { Trust } from './trust.ts';
import { ComparePanel } from './webviews/compare/comparePanel.ts';
import { registerCompare } from './webviews/compare/register.ts';
import { LineagePanel } from './webviews/lineage/lineagePanel.ts';
import { registerLineage } from './webviews/lineage/register.ts';
import { DeploymentMonitor } from './deploymentMonitor.ts';
import { DatabaseChanges } from './views/changes.ts';
import { DeploymentLogs, DEPLOYMENT_LOGS_SCHEME } from './views/deploymentLogs.ts';
import { DeploymentsTree, DEPLOYMENTS_VIEW } from './views/deployments.ts';
import { EXPERIMENTS_VIEW, ExperimentsTree } from './views/experiments/tree.ts';
import { MODELS_VIEW, ModelsTree } from './views/models.ts';

/** What activate() returns: for the integration tests, and for extensions that build on Runboard. */
export interface RunboardApi {
  readonly services: Services;
  readonly trees: Trees;
  /** Runs and sweeps launched by this window, with their terminals. */
  readonly runs: ActiveRuns;
  readonly statusBar: RunsStatusBar;
  /** Every error a command reported (user mistakes, trust refusals, faults). */
  readonly onDidReportError: vscode.Event<ReportedError>;
  readonly testing: {
    /** Takes the untrusted-workspace path in a trusted window (it can only remove trust). */
    simulateUntrusted(on: boolean): void;
    /** The open compare panel, whose `waitForRendered` reports what the webview drew. */
    comparePanel(): ComparePanel | undefined;
    /** The open lineage panel, whose `waitForRendered` reports what the webview drew. */
    lineagePanel(): LineagePanel | undefined;
    /** Request stats and the liveness timer of the Deployments view. */
    readonly deploymentMonitor: DeploymentMonitor;
  };
}

/** Grace period when the window closes with runs still going: their output pipes close with it. */
const SHUTDOWN_GRACE_MS = 3000;
const SHUTDOWN_CAP_MS = 4500;

let shutdown: (() => Promise<void>) | undefined;

/**
 * Builds the services once (the database opens on first use, not here), then the views, the
 * status bar and the commands. Every disposable ends up in context.subscriptions.
 */
export function activate(context: vscode.ExtensionContext): RunboardApi {
  // Everything created here is owned here; VS Code disposes subscriptions in order, so they are
  // handed over last-created first: commands and views go before the database and the log.
  const owned: vscode.Disposable[] = [];
  const own = <T extends vscode.Disposable>(disposable: T): T => (owned.push(disposable), disposable);
  try {
    const log = own(vscode.window.createOutputChannel('Runboard', { log: true }));
    const services = own(new RunboardServices(context, log));
    const trust = new Trust();
    const reporter = own(new Reporter(log));
    const changes = own(new DatabaseChanges(services));
    const runs = own(new ActiveRuns());

    const experiments = own(new ExperimentsTree(services, changes, context.workspaceState));
    const experimentsView = own(vscode.window.createTreeView(EXPERIMENTS_VIEW, { treeDataProvider: experiments, canSelectMany: true, showCollapseAll: true }));
    const describe = () => (experimentsView.description = experiments.describe() || undefined);
    describe();
    own(experiments.onDidChangeState(describe));
    const models = own(new ModelsTree(services, changes));
    const modelsView = own(vscode.window.createTreeView(MODELS_VIEW, { treeDataProvider: models, showCollapseAll: true }));
    const deploymentMonitor = own(new DeploymentMonitor(services, changes));
    const deployments = own(new DeploymentsTree(services, changes, deploymentMonitor));
    const deploymentsView = own(vscode.window.createTreeView(DEPLOYMENTS_VIEW, { treeDataProvider: deployments }));
    // Traffic and liveness are looked at only while the view is visible and something runs.
    deploymentMonitor.attach(deploymentsView as vscode.TreeView<unknown>);
    const trees: Trees = { experiments, experimentsView: experimentsView as vscode.TreeView<unknown>, models, modelsView, deployments, deploymentsView };
    const deploymentLogs = own(new DeploymentLogs(services));
    own(vscode.workspace.registerTextDocumentContentProvider(DEPLOYMENT_LOGS_SCHEME, deploymentLogs));

    const statusBar = own(new RunsStatusBar(services, changes));
    own(runs.onDidChange(() => statusBar.update()));

    const ctx: CommandContext = { services, trust, runs, changes, trees, reporter, deploymentLogs };
    for (const registration of registerCommands(ctx)) own(registration);
    // Compare Selected Runs and Diff Code of Two Runs, with the compare panel and its serializer.
    for (const registration of registerCompare(services)) own(registration);
    // The lineage panel's serializer and live refresh (Reveal Lineage is one of the commands above).
    for (const registration of registerLineage(ctx)) own(registration);

    own(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affects(e, SETTINGS.pageSize) || affects(e, SETTINGS.keyMetric)) experiments.refresh();
        if (affects(e, SETTINGS.databasePath)) {
          void vscode.window.showInformationMessage('Runboard: the database path changes when the window reloads.', 'Reload Window').then((choice) => {
            if (choice) void vscode.commands.executeCommand('workbench.action.reloadWindow');
          });
        }
      }),
    );
    own(vscode.workspace.onDidGrantWorkspaceTrust(() => experiments.refresh()));

    shutdown = () => runs.stopAll(SHUTDOWN_GRACE_MS, SHUTDOWN_CAP_MS);
    context.subscriptions.push(...owned.reverse());
    log.info(`Activated for ${services.workspace || '(no folder)'}; database ${services.dbPath || '(none)'}`);
    return {
      services,
      trees,
      runs,
      statusBar,
      onDidReportError: reporter.onDidReport,
      testing: {
        simulateUntrusted: (on) => trust.simulateUntrusted(on),
        comparePanel: () => ComparePanel.current,
        lineagePanel: () => LineagePanel.current,
        deploymentMonitor,
      },
    };
  } catch (err) {
    for (const disposable of owned.reverse()) disposable.dispose();
    throw err;
  }
}

/** Stops this window's runs (recorded as killed) before the subscriptions close the database. */
export async function deactivate(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  await stop?.();
}
