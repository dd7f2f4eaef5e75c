import * as vscode from 'vscode';
import { COMMANDS } from '../../commandIds.ts';
import type { Container } from '../../container.ts';
import type { DeploymentMonitor } from '../../deploymentMonitor.ts';
import { describeAlert, type Crossing } from '../../monitorAlerts.ts';
import { registerPanelSerializer } from '../host.ts';
import { MONITOR_VIEW_TYPE, MonitorPanel, type MonitorActor } from './monitorPanel.ts';

const OPEN_MONITOR = 'Open Monitor';
const RETRAIN = 'Retrain';
const ROLL_BACK = 'Roll Back';
const MUTE = "Don't Show Again";

/**
 * The Monitor panels' serializer and live refresh, and the notification when a live deployment
 * crosses a threshold. The commands that open a panel and retrain are
 * src/vscode/commands/openMonitor.ts and retrainDeployment.ts.
 */
export function registerMonitor(container: Container, monitor: DeploymentMonitor): vscode.Disposable[] {
  const act = monitorActor();
  const refresh = (ids?: readonly number[]) => {
    for (const panel of MonitorPanel.open.values()) if (!ids || ids.includes(panel.deployment)) panel.refresh();
  };
  return [
    registerPanelSerializer(container, MONITOR_VIEW_TYPE, (panel, state) => MonitorPanel.revive(container, monitor, panel, state, act)),
    // New traffic or feedback, whoever noticed it (a tick, the view); a stop or rollback from the database.
    monitor.onDidJudge((id) => refresh([id])),
    container.changes.onDidChange((change) => {
      if (change.everything) refresh();
      else if (change.deployments.length > 0) refresh(change.deployments);
    }),
    monitor.onDidCross((crossing) => void notify(container, monitor, crossing).catch((err: Error) => container.log.warn(`Monitoring notification: ${err.message}`))),
    { dispose: () => [...MonitorPanel.open.values()].forEach((panel) => panel.dispose()) },
  ];
}

/** The panel's buttons run the same commands as the menus. */
export function monitorActor(): MonitorActor {
  return async (action, deployment) => {
    switch (action) {
      case 'retrain':
        await vscode.commands.executeCommand(COMMANDS.retrainDeployment, deployment);
        return;
      case 'rollback':
        await vscode.commands.executeCommand(COMMANDS.rollbackDeployment, deployment);
        return;
      case 'lineage':
        await vscode.commands.executeCommand(COMMANDS.revealLineage, `deployment:${deployment}`);
        return;
      default: {
        const never: never = action;
        throw new Error(`unknown monitor action ${String(never)}`);
      }
    }
  };
}

/** Once per crossing (the monitor decides): what crossed, with the ways out, and a way to stop hearing about this deployment. */
async function notify(container: Container, monitor: DeploymentMonitor, crossing: Crossing): Promise<void> {
  const d = (await container.deploymentRecords()).find(crossing.deployment);
  if (!d) return;
  const actions = [OPEN_MONITOR, RETRAIN, ...(d.version > 1 ? [ROLL_BACK] : []), MUTE];
  container.log.warn(`Deployment ${d.id} (${d.model}@${d.version}): ${describeAlert(crossing.alert)}`);
  const choice = await vscode.window.showWarningMessage(`Runboard: ${d.model}@${d.version} on ${d.target}: ${describeAlert(crossing.crossed)}.`, ...actions);
  if (choice === OPEN_MONITOR) await vscode.commands.executeCommand(COMMANDS.openMonitor, d.id);
  if (choice === RETRAIN) await vscode.commands.executeCommand(COMMANDS.retrainDeployment, d.id);
  if (choice === ROLL_BACK) await vscode.commands.executeCommand(COMMANDS.rollbackDeployment, d.id);
  if (choice === MUTE) monitor.mute(d.id);
}
