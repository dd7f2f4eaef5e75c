import * as vscode from 'vscode';
import { Deployments } from '../core/deploy/deployments.ts';
import { LIVE_STATUSES, type Deployment, type DeploymentStatus } from '../core/deploy/types.ts';
import type { RunboardServices } from '../host.ts';
import type { DatabaseChanges } from './changes.ts';
import { formatTime, SafeMarkdown } from './format.ts';

export const DEPLOYMENTS_VIEW = 'runboard.deployments';
/** Stopped and failed deployments shown besides the live ones (the newest). */
const ENDED_SHOWN = 20;

export type DeploymentsNode = { kind: 'deployment'; deployment: Deployment } | { kind: 'message'; text: string };

/** Live deployments first, then the most recent ended ones. */
export class DeploymentsTree implements vscode.TreeDataProvider<DeploymentsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<DeploymentsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private readonly services: RunboardServices;

  constructor(services: RunboardServices, changes: DatabaseChanges) {
    this.services = services;
    this.disposables.push(changes.onDidChange(() => this.refresh()));
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(node?: DeploymentsNode): Promise<DeploymentsNode[]> {
    if (node || !this.services.hasDatabase()) return [];
    try {
      // Listing needs no targets, so no deploy.json is read (a broken one must not hide the list).
      const all = new Deployments(await this.services.store(), { workspace: this.services.workspace, settings: {} }).list();
      const live = all.filter((d) => LIVE_STATUSES.includes(d.status));
      const ended = all.filter((d) => !LIVE_STATUSES.includes(d.status)).slice(0, ENDED_SHOWN);
      return [...live, ...ended].map((deployment) => ({ kind: 'deployment', deployment }));
    } catch (err) {
      this.services.log.error('Reading the Deployments view failed', err as Error);
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
    const item = new vscode.TreeItem(`${d.model}@${d.version} → ${d.target}`);
    item.id = `deployment:${d.id}`;
    item.iconPath = deploymentIcon(d.status);
    item.description = [d.status, d.url ?? ''].filter(Boolean).join(' · ');
    const md = new SafeMarkdown().raw('**').text(`${d.model}@${d.version}`).raw(`** · deployment ${d.id}  \n`);
    md.field('Target', d.target).field('Status', d.status).field('Created', formatTime(d.createdAt));
    if (d.url) md.field('URL', d.url);
    if (d.stoppedAt) md.field('Stopped', formatTime(d.stoppedAt));
    if (d.message) md.field('Message', d.message);
    if (d.error) md.field('Error', d.error);
    item.tooltip = md.md;
    const live = LIVE_STATUSES.includes(d.status);
    item.contextValue = `deployment.${live ? 'live' : 'ended'}${d.url ? '.url' : ''}`;
    return item;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
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
