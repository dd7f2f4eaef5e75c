/**
 * Every command id of the extension, in one table. package.json's `contributes.commands` lists
 * the same ids (an integration test checks that each one is registered).
 */
export const COMMANDS = {
  launchRun: 'runboard.launchRun',
  launchSweep: 'runboard.launchSweep',
  stopRun: 'runboard.stopRun',
  rerun: 'runboard.rerun',
  compareRuns: 'runboard.compareRuns',
  showCodeDiff: 'runboard.showCodeDiff',
  registerModel: 'runboard.registerModel',
  deployModel: 'runboard.deployModel',
  stopDeployment: 'runboard.stopDeployment',
  copyDeploymentUrl: 'runboard.copyDeploymentUrl',
  testEndpoint: 'runboard.testEndpoint',
  sendTestRequest: 'runboard.sendTestRequest',
  showDeploymentLogs: 'runboard.showDeploymentLogs',
  rollbackDeployment: 'runboard.rollbackDeployment',
  setModelAlias: 'runboard.setModelAlias',
  compareWithChampion: 'runboard.compareWithChampion',
  revealLineage: 'runboard.revealLineage',
  refresh: 'runboard.refresh',
  openRunOutput: 'runboard.openRunOutput',
  revealRunDirectory: 'runboard.revealRunDirectory',
  revealArtifact: 'runboard.revealArtifact',
  copyRunId: 'runboard.copyRunId',
  deleteRun: 'runboard.deleteRun',
  filterRuns: 'runboard.filterRuns',
  sortRuns: 'runboard.sortRuns',
  clearFilter: 'runboard.clearFilter',
  loadMoreRuns: 'runboard.loadMoreRuns',
  focusView: 'runboard.focusView',
  openProfiles: 'runboard.openProfiles',
  createProfile: 'runboard.createProfile',
  openWalkthrough: 'runboard.openWalkthrough',
  showLog: 'runboard.showLog',
  copyMlflowTrackingUri: 'runboard.copyMlflowTrackingUri',
  openMonitor: 'runboard.openMonitor',
  retrainDeployment: 'runboard.retrainDeployment',
  openRunsTable: 'runboard.openRunsTable',
  pushRuns: 'runboard.pushRuns',
  pullRuns: 'runboard.pullRuns',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** The walkthrough's id as `workbench.action.openWalkthrough` wants it: publisher.name#id. */
export const WALKTHROUGH_ID = 'runboard.runboard#runboard.gettingStarted';
