import * as vscode from 'vscode';
import type { ActiveRuns } from './activeRuns.ts';
import { registerCommands } from './commands/register.ts';
import { Container } from './container.ts';
import type { ReportedError } from './reporter.ts';
import { ProfileDiagnostics } from './profileDiagnostics.ts';
import { affects, SETTINGS } from './settings.ts';
import { RunsStatusBar } from './statusBar.ts';
import { AutoPush } from './sync/autoPush.ts';
import { Views } from './views/views.ts';
import { revealRun } from './views/reveal.ts';
import { ComparePanel } from './webviews/compare/comparePanel.ts';
import { registerCompare } from './webviews/compare/register.ts';
import { LineagePanel } from './webviews/lineage/lineagePanel.ts';
import { registerLineage } from './webviews/lineage/register.ts';
import { MonitorPanel } from './webviews/monitor/monitorPanel.ts';
import { registerMonitor } from './webviews/monitor/register.ts';

import { RunsTablePanel } from './webviews/runsTable/runsTablePanel.ts';
import { registerRunsTable } from './webviews/runsTable/register.ts';

/** What activate() returns: for the integration tests, and for extensions that build on Runboard. */
export interface RunboardApi {
  readonly container: Container;
  readonly trees: Views;
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
    /** The open monitor panel of a deployment, whose `waitForRendered` reports what the webview drew. */
    monitorPanel(deployment: number): MonitorPanel | undefined;

    /** The open runs table, whose `waitForRendered` reports what the webview drew. */
    runsTablePanel(): RunsTablePanel | undefined;
    /** What the runs table's Enter and the lineage's run nodes do: select the run in the Experiments view. */
    revealRun(runId: number): Promise<void>;
    /** Request stats and the liveness timer of the Deployments view. */
    readonly deploymentMonitor: Views['deploymentMonitor'];
  };
}

/** Grace period when the window closes with runs still going: their output pipes close with it. */
const SHUTDOWN_GRACE_MS = 3000;
const SHUTDOWN_CAP_MS = 4500;

let shutdown: (() => Promise<void>) | undefined;

/**
 * Builds the container once (the database opens on first use, not here), then the views, the
 * status bar, the commands and the webviews' serializers, all owned by the container, which is
 * the one subscription: disposing it disposes them, last-created first.
 */
export function activate(context: vscode.ExtensionContext): RunboardApi {
  const container = new Container(context);
  try {
    const views = container.own(new Views(container));
    const statusBar = container.own(new RunsStatusBar(container));
    container.own(container.runs.onDidChange(() => statusBar.update()));
    for (const registration of registerCommands(container, views)) container.own(registration);
    for (const registration of registerCompare(container)) container.own(registration);
    for (const registration of registerLineage(container, views)) container.own(registration);
    if (container.workspace) container.own(new ProfileDiagnostics(container));
    const autoPush = container.workspace ? container.own(new AutoPush(container)) : undefined;

    for (const registration of registerMonitor(container, views.deploymentMonitor)) container.own(registration);

    for (const registration of registerRunsTable(container, views)) container.own(registration);

    container.own(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affects(e, SETTINGS.pageSize) || affects(e, SETTINGS.keyMetric)) views.experiments.refresh();
        if (affects(e, SETTINGS.mlflowEnabled)) container.mlflow.enabledChanged();
        if (affects(e, SETTINGS.syncAutoPush)) autoPush?.restart();
        if (affects(e, SETTINGS.databasePath)) {
          void vscode.window.showInformationMessage('Runboard: the database path changes when the window reloads.', 'Reload Window').then((choice) => {
            if (choice) void vscode.commands.executeCommand('workbench.action.reloadWindow');
          });
        }
      }),
    );
    container.own(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        views.experiments.refresh();
        container.mlflow.startIfUsed();
      }),
    );
    container.mlflow.startIfUsed();

    shutdown = () => container.runs.stopAll(SHUTDOWN_GRACE_MS, SHUTDOWN_CAP_MS);
    context.subscriptions.push(container);
    container.log.info(`Activated for ${container.workspace || '(no folder)'}; database ${container.dbPath || '(none)'}`);
    return {
      container,
      trees: views,
      runs: container.runs,
      statusBar,
      onDidReportError: container.reporter.onDidReport,
      testing: {
        simulateUntrusted: (on) => container.trust.simulateUntrusted(on),
        comparePanel: () => ComparePanel.current,
        lineagePanel: () => LineagePanel.current,
        monitorPanel: (deployment) => MonitorPanel.open.get(deployment),

        runsTablePanel: () => RunsTablePanel.current,
        revealRun: (runId) => revealRun(container, views, runId),
        deploymentMonitor: views.deploymentMonitor,
      },
    };
  } catch (err) {
    container.dispose();
    throw err;
  }
}

/** Stops this window's runs (recorded as killed) before the container closes the database. */
export async function deactivate(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  await stop?.();
}
