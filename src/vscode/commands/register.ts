import * as vscode from 'vscode';
import { clearFilterCommand } from './clearFilter.ts';
import { compareRunsCommand } from './compareRuns.ts';
import { compareWithChampionCommand } from './compareWithChampion.ts';
import { copyDeploymentUrlCommand } from './copyDeploymentUrl.ts';
import { copyMlflowTrackingUriCommand } from './copyMlflowTrackingUri.ts';
import { copyRunIdCommand } from './copyRunId.ts';
import { deleteRunCommand } from './deleteRun.ts';
import { deployModelCommand } from './deployModel.ts';
import { filterRunsCommand } from './filterRuns.ts';
import { focusViewCommand } from './focusView.ts';
import { launchRunCommand } from './launchRun.ts';
import { launchSweepCommand } from './launchSweep.ts';
import { loadMoreRunsCommand } from './loadMoreRuns.ts';
import { openMonitorCommand } from './openMonitor.ts';
import { openProfilesCommand } from './openProfiles.ts';
import { createProfileCommand } from './createProfile.ts';

import { openRunsTableCommand } from './openRunsTable.ts';
import { openRunOutputCommand } from './openRunOutput.ts';
import { openWalkthroughCommand } from './openWalkthrough.ts';
import { pullRunsCommand } from './pullRuns.ts';
import { pushRunsCommand } from './pushRuns.ts';
import { refreshCommand } from './refresh.ts';
import { registerModelCommand } from './registerModel.ts';
import { rerunCommand } from './rerun.ts';
import { retrainDeploymentCommand } from './retrainDeployment.ts';
import { revealArtifactCommand } from './revealArtifact.ts';
import { revealLineageCommand } from './revealLineage.ts';
import { revealRunDirectoryCommand } from './revealRunDirectory.ts';
import { rollbackDeploymentCommand } from './rollbackDeployment.ts';
import { setModelAliasCommand } from './setModelAlias.ts';
import { showCodeDiffCommand } from './showCodeDiff.ts';
import { showDeploymentLogsCommand } from './showDeploymentLogs.ts';
import { showLogCommand } from './showLog.ts';
import { sortRunsCommand } from './sortRuns.ts';
import { stopDeploymentCommand } from './stopDeployment.ts';
import { stopRunCommand } from './stopRun.ts';
import { testEndpointCommand } from './testEndpoint.ts';
import { sendTestRequestCommand } from './sendTestRequest.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';
import type { Views } from '../views/views.ts';

/** Every command of the extension: one handler each, all reported through the container's reporter. */
export const COMMAND_SPECS: readonly CommandSpec[] = [
  launchRunCommand,
  launchSweepCommand,
  stopRunCommand,
  rerunCommand,
  compareRunsCommand,
  showCodeDiffCommand,
  registerModelCommand,
  deployModelCommand,
  stopDeploymentCommand,
  copyDeploymentUrlCommand,
  testEndpointCommand,
  sendTestRequestCommand,
  showDeploymentLogsCommand,
  rollbackDeploymentCommand,
  setModelAliasCommand,
  compareWithChampionCommand,
  revealLineageCommand,
  refreshCommand,
  openRunOutputCommand,
  revealRunDirectoryCommand,
  revealArtifactCommand,
  copyRunIdCommand,
  deleteRunCommand,
  filterRunsCommand,
  sortRunsCommand,
  clearFilterCommand,
  loadMoreRunsCommand,
  focusViewCommand,
  openProfilesCommand,
  createProfileCommand,
  openWalkthroughCommand,
  showLogCommand,
  copyMlflowTrackingUriCommand,
  openMonitorCommand,
  retrainDeploymentCommand,
  openRunsTableCommand,
  pushRunsCommand,
  pullRunsCommand,
];

/**
 * Registers the handlers. A handler's error never escapes to VS Code or to a programmatic
 * caller: it is reported (a message, and the log for faults) and the command resolves to
 * undefined.
 */
export function registerCommands(container: Container, views: Views): vscode.Disposable[] {
  return COMMAND_SPECS.map((spec) =>
    vscode.commands.registerCommand(spec.id, async (...args: unknown[]) => {
      try {
        return await spec.run(container, views, ...args);
      } catch (err) {
        container.reporter.report(spec.id, err);
        return undefined;
      }
    }),
  );
}
