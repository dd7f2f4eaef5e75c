import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { LIVE_STATUSES, type Deployment } from '../../core/deploy/types.ts';
import type { Container } from '../container.ts';
import { COMMANDS } from '../commandIds.ts';
import { MonitorPanel } from '../webviews/monitor/monitorPanel.ts';
import { monitorActor } from '../webviews/monitor/register.ts';
import type { CommandSpec } from './command.ts';
import { deploymentIdOf } from './stopDeployment.ts';

/**
 * Open Monitor: the Monitor panel of a deployment (its traffic, drift, data quality and live
 * accuracy), from the Deployments view, a notification, or the palette, which asks which one.
 */
export const openMonitorCommand: CommandSpec = {
  id: COMMANDS.openMonitor,
  async run(container, views, arg): Promise<number | undefined> {
    await container.store();
    const id = deploymentIdOf(arg) ?? (await pickDeployment(container, 'Open Monitor'));
    if (id === undefined) return undefined;
    await MonitorPanel.show(container, views.deploymentMonitor, id, monitorActor());
    return id;
  },
};

/** A quick pick of deployments, live ones first; undefined when dismissed. */
export async function pickDeployment(container: Container, title: string): Promise<number | undefined> {
  const all = (await container.deploymentRecords()).list();
  if (all.length === 0) throw new UserError('No deployments yet: deploy a model first (Deploy Model… on a model version or a model file).');
  const live = (d: Deployment) => LIVE_STATUSES.includes(d.status);
  const items = [...all.filter(live), ...all.filter((d) => !live(d))].map((d) => ({
    label: `$(${live(d) ? 'vm-running' : 'vm-outline'}) ${d.model}@${d.version} → ${d.target}`,
    description: `deployment ${d.id} · ${d.status}`,
    detail: d.url ?? undefined,
    id: d.id,
  }));
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Which deployment?', matchOnDescription: true, matchOnDetail: true });
  return picked?.id;
}
