// No `vscode` import: the Monitor panel's presenter, behind a port like the lineage panel's, so
// it runs (and is tested) on plain Node against a real store and the engine's report.
import { UserError } from '../../../core/errors.ts';
import type { MonitorReport } from '../../../core/monitor/report.ts';
import type { HostMessage, MonitorAction, MonitoredDeployment, RenderedReport, WebviewMessage } from '../../../shared/monitorProtocol.ts';
import { runPageAction } from '../pageActions.ts';
import { RenderTracker } from '../renderTracker.ts';

/** Where the panel's facts come from: the deployment's record and the engine's report of it. */
export interface MonitorSource {
  /** Throws a UserError for an unknown deployment. */
  deployment(id: number): MonitoredDeployment;
  report(id: number): MonitorReport;
}

/** What the presenter needs from its host: a line to the page and the editor's actions. */
export interface MonitorPort {
  post(message: HostMessage): void;
  setTitle(title: string): void;
  /** What a button of the page does (retrain, roll back, show lineage). */
  act(action: MonitorAction, deployment: number): Promise<void>;
  /** Shows an error to the user (a message, never a throw). */
  showError(text: string): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * One deployment's monitoring report for its page. The page is not retained while hidden: it
 * reloads, says `ready`, and gets a report made then. Nothing is computed for a page that is not
 * there, and a report that says nothing new (only its time changed) is not sent again.
 */
export class MonitorPresenter {
  private readonly source: MonitorSource;
  private readonly port: MonitorPort;
  readonly deployment: number;
  private ready = false;
  private shown: string | undefined;
  private report: MonitorReport | undefined;
  /** What the page drew last and the errors it reported. */
  readonly render: RenderTracker<RenderedReport>;

  constructor(source: MonitorSource, deployment: number, port: MonitorPort) {
    this.source = source;
    this.deployment = deployment;
    this.port = port;
    this.render = new RenderTracker('Monitor', (message) => port.log('warn', message));
  }

  /** The report last sent (or about to be sent) to the page. */
  get currentReport(): MonitorReport | undefined {
    return this.report;
  }

  /** The page went away (hidden, not retained): nothing is computed until it says `ready` again. */
  webviewHidden(): void {
    this.ready = false;
  }

  /** Makes the report again and sends it when the page is there and it changed. */
  refresh(): void {
    if (!this.ready) return;
    let message: HostMessage;
    try {
      const deployment = this.source.deployment(this.deployment);
      const report = this.source.report(this.deployment);
      this.report = report;
      this.port.setTitle(`Monitor: ${deployment.model}@${deployment.version} → ${deployment.target}`);
      message = { type: 'report', deployment, report };
    } catch (err) {
      if (!(err instanceof UserError)) this.port.log('error', `Monitor: deployment ${this.deployment}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      message = { type: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    const text = JSON.stringify(message, (key, value: unknown) => (key === 'generatedAt' ? undefined : value));
    if (text === this.shown) return;
    this.shown = text;
    this.port.post(message);
  }

  async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.shown = undefined;
        this.refresh();
        return;
      case 'action':
        await runPageAction(this.port, `Monitor: ${message.action} of deployment ${this.deployment}`, () => this.port.act(message.action, this.deployment));
        return;
      case 'rendered':
      case 'error':
        this.render.receive(message);
        return;
      default: {
        const never: never = message;
        this.port.log('warn', `Monitor: unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  dispose(): void {
    this.render.dispose();
  }
}
