import * as vscode from 'vscode';
import type { RequestStats } from '../../core/monitor/requestLog.ts';
import { LIVE_STATUSES, type Deployment, type DeploymentStatus } from '../../core/deploy/types.ts';
import type { DeploymentMonitor } from '../deploymentMonitor.ts';
import { describeAlert, type MonitorAlert } from '../monitorAlerts.ts';
import type { Container } from '../container.ts';
import { displayPath, formatNumber, formatTime, SafeMarkdown } from './format.ts';
import { Disposable } from '../lifecycle.ts';

export const DEPLOYMENTS_VIEW = 'runboard.deployments';
/** Stopped and failed deployments shown besides the live ones (the newest). */
const ENDED_SHOWN = 20;

export type DeploymentsNode =
  | { kind: 'deployment'; deployment: Deployment; stats?: RequestStats | undefined; alert?: MonitorAlert | undefined; requestLog: string | undefined }
  | { kind: 'message'; text: string };

/**
 * Live deployments first, then the most recent ended ones. A live one shows its traffic (requests,
 * error rate, p50/p95 latency) from the monitor, which refreshes the view when its request log moves.
 *
 * contextValue: `deployment.live` or `deployment.ended`, then `.logs` (it has a folder with logs),
 * `.rollback` (an older version exists) and `.url`, in that order.
 */
export class DeploymentsTree extends Disposable implements vscode.TreeDataProvider<DeploymentsNode> {
  private readonly emitter = this._register(new vscode.EventEmitter<DeploymentsNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly container: Container;
  private readonly monitor: DeploymentMonitor | undefined;

  constructor(container: Container, monitor?: DeploymentMonitor) {
    super();
    this.container = container;
    this.monitor = monitor;
    this._register(container.changes.onDidChange((change) => {
        if (change.everything || change.deployments.length > 0) this.refresh();
      }));
    if (monitor) this._register(monitor.onDidChange(() => this.refresh()));
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(node?: DeploymentsNode): Promise<DeploymentsNode[]> {
    if (node || !this.container.hasDatabase()) return [];
    try {
      const deployments = await this.container.deploymentRecords();
      const all = deployments.list();
      const live = all.filter((d) => LIVE_STATUSES.includes(d.status));
      const ended = all.filter((d) => !LIVE_STATUSES.includes(d.status)).slice(0, ENDED_SHOWN);
      return [
        ...(await Promise.all(live.map(async (deployment): Promise<DeploymentsNode> => ({ kind: 'deployment', deployment, requestLog: deployments.requestLog(deployment), stats: await this.monitor?.stats(deployment), alert: this.monitor?.alert(deployment.id) })))),
        ...ended.map((deployment): DeploymentsNode => ({ kind: 'deployment', deployment, requestLog: deployments.requestLog(deployment) })),
      ];
    } catch (err) {
      this.container.log.error('Reading the Deployments view failed', err as Error);
      return [{ kind: 'message', text: `Cannot read deployments: ${(err as Error).message}` }];
    }
  }

  getTreeItem(node: DeploymentsNode): vscode.TreeItem {
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.text);
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      return item;
    }
    const d = node.deployment;
    const live = LIVE_STATUSES.includes(d.status);
    const item = new vscode.TreeItem(`${d.model}@${d.version} → ${d.target}`);
    item.id = `deployment:${d.id}`;
    const alert = live ? node.alert : undefined;
    // A drifted or failing deployment wears a warning in place of its status icon; its tooltip says why.
    item.iconPath = alert ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : deploymentIcon(d.status);
    const traffic = [...(alert ? [alert.features.length ? 'drift' : 'alert'] : []), ...(live && node.stats ? describeStats(node.stats) : [])];
    const where = d.url ? d.url.replace(/^https?:\/\//, '') : '';
    item.description = [d.status === 'running' ? '' : d.status, where, ...traffic, live ? '' : d.stoppedAt ? formatTime(d.stoppedAt) : ''].filter(Boolean).join(' · ');
    const md = new SafeMarkdown().raw('**').text(`${d.model}@${d.version}`).raw(`** · deployment ${d.id}  \n`);
    md.field('Target', d.target).field('Status', d.status).field('Created', formatTime(d.createdAt));
    if (d.url) md.field('URL', d.url);
    if (d.stoppedAt) md.field('Stopped', formatTime(d.stoppedAt));
    if (d.replacesId) md.field('Rolled back', `deployment ${d.replacesId}`);
    if (d.message) md.field('Message', d.message);
    if (d.error) md.field('Error', d.error);
    if (d.forced?.length) md.field('Deployed despite failing gates', d.forced.join('; '));
    if (node.stats) {
      const s = node.stats;
      md.raw('\n**Traffic** (recent requests)  \n');
      md.field('Requests', `${s.requests} (${s.rows} rows predicted)`).field('Errors', `${s.errors} (${formatPercent(s.errorRate)})`);
      md.field('Latency', `p50 ${formatMs(s.p50)} · p95 ${formatMs(s.p95)}`);
      if (s.lastAt) md.field('Last request', formatTime(s.lastAt));
    }
    if (alert) md.raw('\n**Monitoring**  \n').text(`${describeAlert(alert)}.`).raw('  \n');
    if (node.requestLog) md.field('Request log', displayPath(this.container.workspace, node.requestLog));
    item.tooltip = md.md;
    item.accessibilityInformation = { label: `${d.model} version ${d.version} on ${d.target}, ${d.status}${traffic.length ? `, ${traffic.join(', ')}` : ''}` };
    item.contextValue = `deployment.${live ? 'live' : 'ended'}${d.dir ? '.logs' : ''}${d.version > 1 ? '.rollback' : ''}${d.url ? '.url' : ''}`;
    return item;
  }

  /** For reveal: the list is flat. */
  getParent(): undefined {
    return undefined;
  }

}

function deploymentIcon(status: DeploymentStatus): vscode.ThemeIcon {
  switch (status) {
    case 'running':
    case 'deployed':
      return new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed'));
    case 'starting':
    case 'stopping':
      return new vscode.ThemeIcon('sync~spin');
    case 'prepared':
      return new vscode.ThemeIcon('file-submodule');
    case 'failed':
    case 'stopped unexpectedly':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'stopped':
      return new vscode.ThemeIcon('vm-outline');
    default: {
      const never: never = status;
      return new vscode.ThemeIcon(String(never));
    }
  }
}

function describeStats(s: RequestStats): string[] {
  if (s.requests === 0) return ['no requests yet'];
  return [`${s.requests} req`, `${formatPercent(s.errorRate)} err`, `p50 ${formatMs(s.p50)}`, `p95 ${formatMs(s.p95)}`];
}

const formatPercent = (rate: number): string => `${formatNumber(Math.round(rate * 1000) / 10)}%`;
const formatMs = (ms: number | null): string => (ms === null ? '—' : `${formatNumber(ms < 10 ? Math.round(ms * 10) / 10 : Math.round(ms))} ms`);
