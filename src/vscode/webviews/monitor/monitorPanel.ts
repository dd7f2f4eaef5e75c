import * as vscode from 'vscode';
import type { MonitorAction, MonitorViewState, HostMessage, RenderedReport, WebviewMessage } from '../../../shared/monitorProtocol.ts';
import type { Deployments } from '../../../core/deploy/deployments.ts';
import type { MonitorReport } from '../../../core/monitor/report.ts';
import type { Container } from '../../container.ts';
import type { DeploymentMonitor } from '../../deploymentMonitor.ts';
import { Disposable } from '../../lifecycle.ts';
import { WebviewHost, type WebviewPage } from '../host.ts';
import { monitorHtml } from './html.ts';
import { MonitorPresenter, type MonitorSource } from './presenter.ts';

export const MONITOR_VIEW_TYPE = 'runboard.monitor';
/**
 * Windows the panel shows (the engine merges older ones). The page's cost grows with features ×
 * windows: the engine's default of 200 made a 64-feature page take seconds to draw.
 */
const HISTORY_POINTS = 48;

/** What a button of the panel does: the editor's commands (retrain, roll back, lineage). */
export type MonitorActor = (action: MonitorAction, deployment: number) => Promise<void>;

/**
 * The Monitor panel of one deployment: revealed when already open. The webview host does the
 * page, the handshake and the lifetime; MonitorPresenter (no vscode) makes and sends the report;
 * this class connects them, and keeps the deployment watcher looking while the panel is open.
 */
export class MonitorPanel extends Disposable {
  /** The open panels by deployment (integration tests: `api.testing.monitorPanel(id)?.waitForRendered()`). */
  static readonly open = new Map<number, MonitorPanel>();

  private readonly host: WebviewHost<HostMessage, WebviewMessage>;
  private readonly presenter: MonitorPresenter;

  static async show(container: Container, monitor: DeploymentMonitor, deployment: number, act: MonitorActor): Promise<MonitorPanel> {
    const records = await container.deploymentRecords();
    // Fails (a UserError) before any panel opens when the deployment does not exist.
    const d = records.get(deployment);
    const current = MonitorPanel.open.get(d.id);
    if (current) {
      current.host.panel.reveal(undefined, false);
      current.refresh();
      return current;
    }
    const host = WebviewHost.open<HostMessage, WebviewMessage>(container, MONITOR_VIEW_TYPE, `Monitor: ${d.model}@${d.version}`, pageOf(container));
    return new MonitorPanel(container, monitor, records, host, d.id, act);
  }

  /** Restores a panel VS Code kept across a reload (the webview saved its deployment). */
  static async revive(container: Container, monitor: DeploymentMonitor, panel: vscode.WebviewPanel, state: unknown, act: MonitorActor): Promise<MonitorPanel> {
    const id = (state as Partial<MonitorViewState> | undefined)?.deployment;
    if (typeof id !== 'number') throw new Error('the monitor panel had no saved deployment');
    const records = await container.deploymentRecords();
    records.get(id);
    MonitorPanel.open.get(id)?.dispose();
    const host = WebviewHost.adopt<HostMessage, WebviewMessage>(container, panel, pageOf(container));
    return new MonitorPanel(container, monitor, records, host, id, act);
  }

  private constructor(container: Container, monitor: DeploymentMonitor, records: Deployments, host: WebviewHost<HostMessage, WebviewMessage>, deployment: number, act: MonitorActor) {
    super();
    this.host = this._register(host);
    const source: MonitorSource = {
      deployment: (id) => {
        const { model, version, target, status, url } = records.get(id);
        return { id, model, version, target, status, url };
      },
      report: (id) => monitor.report(id, { historyPoints: HISTORY_POINTS }),
    };
    this.presenter = this._register(
      new MonitorPresenter(source, deployment, {
        post: (message) => host.post(message),
        setTitle: (title) => (host.panel.title = title),
        act,
        showError: (text) => void vscode.window.showErrorMessage(text),
        log: (level, message) => container.log[level](message),
      }),
    );
    this._register(monitor.hold());
    this._register(host.onDidReceiveMessage((message) => void this.presenter.handle(message)));
    this._register(host.onDidHide(() => this.presenter.webviewHidden()));
    this._register(host.onDidDispose(() => this.dispose()));
    MonitorPanel.open.set(deployment, this);
  }

  get deployment(): number {
    return this.presenter.deployment;
  }

  get currentReport(): MonitorReport | undefined {
    return this.presenter.currentReport;
  }

  get lastRendered(): RenderedReport | null {
    return this.presenter.render.lastRendered;
  }

  /** Errors the webview reported (script errors, CSP violations): tests expect none. */
  get problems(): readonly string[] {
    return this.presenter.render.problems;
  }

  /** Makes the report again; sent only when it changed. */
  refresh(): void {
    this.presenter.refresh();
  }

  waitForRendered(predicate?: (report: RenderedReport) => boolean, timeoutMs?: number): Promise<RenderedReport> {
    return this.presenter.render.waitForRendered(predicate, timeoutMs);
  }

  override dispose(): void {
    if (MonitorPanel.open.get(this.deployment) === this) MonitorPanel.open.delete(this.deployment);
    super.dispose();
  }
}

function pageOf(container: Container): WebviewPage {
  return {
    html: ({ cspSource, nonce, asset }) => monitorHtml({ cspSource, nonce, scriptUri: asset('monitor.js'), styleUri: asset('monitor.css'), codiconsUri: asset('codicons/codicon.css') }),
    iconPath: vscode.Uri.joinPath(container.context.extensionUri, 'media', 'runboard.svg'),
  };
}
