import * as vscode from 'vscode';
import type { Deployments } from '../core/deploy/deployments.ts';
import { LIVE_STATUSES, type Deployment } from '../core/deploy/types.ts';
import { UserError } from '../core/errors.ts';
import { DeploymentWatcher, type DeploymentChange } from '../core/monitor/deploymentWatcher.ts';
import { monitorDeployment } from '../core/monitor/monitor.ts';
import type { MonitorOptions, MonitorReport } from '../core/monitor/report.ts';
import type { RequestStats } from '../core/monitor/requestLog.ts';
import type { Container } from './container.ts';
import { Disposable, toDisposable } from './lifecycle.ts';
import { alertOf, CrossingDetector, type Crossing, type MonitorAlert } from './monitorAlerts.ts';
import { affects, settings, SETTINGS } from './settings.ts';

/**
 * The editor's side of the core's DeploymentWatcher (traffic stats, liveness, the timer): it
 * follows the Deployments view's visibility, the open Monitor panels and the database's changes.
 * While they show, it looks every few seconds; while nothing shows, every
 * `runboard.monitor.checkIntervalSeconds`, so a drift is heard with the sidebar closed; with
 * nothing live, not at all. The watcher is made once the database is open (its first look then),
 * since it reads through the window's one Deployments. When a live deployment's traffic moves, its
 * monitoring report is made again: its alert badges the view, and a threshold newly crossed fires
 * `onDidCross` once, remembered in the workspace state so a restart does not fire it again.
 */
export class DeploymentMonitor extends Disposable {
  private readonly emitter = this._register(new vscode.EventEmitter<DeploymentChange>());
  /** Stats of live deployments changed, or servers were found gone (at most once per tick). */
  readonly onDidChange = this.emitter.event;
  private readonly crossings = this._register(new vscode.EventEmitter<Crossing>());
  /** A live deployment newly crossed a drift threshold or failed a gate (once per crossing). */
  readonly onDidCross = this.crossings.event;
  private readonly judgements = this._register(new vscode.EventEmitter<number>());
  /** A live deployment's report was made again because its traffic or feedback moved (open panels follow). */
  readonly onDidJudge = this.judgements.event;
  private readonly container: Container;
  private watcher: DeploymentWatcher | undefined;
  /** The window's Deployments the watcher reads through. */
  private records: Deployments | undefined;
  private making: Promise<DeploymentWatcher> | undefined;
  private visible = false;
  /** Open Monitor panels: they keep the watcher looking while the view is hidden. */
  private holds = 0;
  private readonly detector: CrossingDetector;
  private readonly alerts = new Map<number, MonitorAlert>();
  /** The stats each deployment's alert was last made with. */
  private readonly judged = new Map<number, RequestStats>();

  constructor(container: Container) {
    super();
    this.container = container;
    this.detector = new CrossingDetector(container.context.workspaceState);
    this._register(
      container.changes.onDidChange((change) => {
        if (change.everything || change.deployments.length > 0) void this.withWatcher((watcher) => watcher.recheck());
      }),
    );
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affects(e, SETTINGS.monitorCheckIntervalSeconds)) this.watcher?.setIdleInterval(settings.monitorCheckIntervalMs());
      }),
    );
    // The first look once the database is open (the status bar opens it soon after activation):
    // a deployment that drifted while the window was closed is heard without opening the view.
    const firstLook = () => void this.withWatcher((watcher) => void watcher.tick());
    if (container.openStore) firstLook();
    else this._register(container.onDidOpenStore(firstLook));
  }

  /** Follows a tree view's visibility: the short cadence while it shows. */
  attach(view: vscode.TreeView<unknown>): void {
    this.setVisible(view.visible);
    this._register(view.onDidChangeVisibility((e) => this.setVisible(e.visible)));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.activate();
  }

  /** Keeps the watcher looking while the returned disposable lives (an open Monitor panel). */
  hold(): vscode.Disposable {
    this.holds++;
    this.activate();
    let released = false;
    return toDisposable(() => {
      if (released) return;
      released = true;
      this.holds--;
      this.activate();
    });
  }

  /** "Don't Show Again": the deployment's later crossings are not notified (its badge stays). */
  mute(id: number): void {
    this.detector.mute(id);
  }

  /** The monitoring alert of a live deployment at the last look; undefined when all is well or unknown. */
  alert(id: number): MonitorAlert | undefined {
    return this.alerts.get(id);
  }

  /** The monitoring report of a deployment, made now from what its server kept (the database must be open). */
  report(id: number, options?: MonitorOptions): MonitorReport {
    const store = this.container.openStore;
    if (!store) throw new UserError('The Runboard database is not open');
    return monitorDeployment(store, id, options);
  }

  private get active(): boolean {
    return this.visible || this.holds > 0;
  }

  private activate(): void {
    // The watcher reads `active` when it is there, so a quick show-then-hide ends hidden.
    if (this.watcher || this.active) void this.withWatcher((watcher) => watcher.setActive(this.active));
  }

  /**
   * Makes a live deployment's report again when its request log moved since the last one (the
   * watcher re-reads stats only then, so a new stats object means new traffic or feedback),
   * whoever noticed first: a tick, or the view drawing its item. A failure is logged, never shown.
   */
  private judge(id: number, stats: RequestStats | undefined): void {
    const store = this.container.openStore;
    const d = this.records?.find(id);
    if (!store || !d || !LIVE_STATUSES.includes(d.status) || !stats) {
      this.alerts.delete(id);
      this.judged.delete(id);
      this.detector.forget(id);
      return;
    }
    if (this.judged.get(id) === stats) return;
    this.judged.set(id, stats);
    try {
      const report = monitorDeployment(store, id);
      const alert = alertOf(report);
      if (alert) this.alerts.set(id, alert);
      else this.alerts.delete(id);
      const crossing = this.detector.observe(d, report);
      if (crossing) this.crossings.fire(crossing);
    } catch (err) {
      this.container.log.warn(`Monitoring deployment ${id}: ${(err as Error).message}`);
    }
    this.judgements.fire(id);
  }

  /** Whether the timer is running (tests). */
  get running(): boolean {
    return this.watcher?.running ?? false;
  }

  /** Milliseconds between the timer's looks; undefined when it is not running (tests). */
  get cadenceMs(): number | undefined {
    return this.watcher?.cadenceMs;
  }

  /** Request stats of a deployment; undefined when its target keeps no request log here. */
  async stats(d: Deployment): Promise<RequestStats | undefined> {
    const stats = (await this.ready())?.stats(d.id);
    this.judge(d.id, stats);
    return stats;
  }

  /** Looks now, instead of at the next tick. */
  async tick(): Promise<void> {
    await (await this.ready())?.tick();
  }

  /** Runs `use` on the watcher once it is there. */
  private async withWatcher(use: (watcher: DeploymentWatcher) => void): Promise<void> {
    const watcher = await this.ready();
    if (watcher) use(watcher);
  }

  /** The watcher, made on first need once the database exists; undefined before, or when it cannot be made (logged). */
  private async ready(): Promise<DeploymentWatcher | undefined> {
    if (this.isDisposed || !this.container.hasDatabase()) return undefined;
    this.making ??= this.container.deploymentRecords().then((deployments) => {
      this.records = deployments;
      this.detector.retain(deployments.list().filter((d) => LIVE_STATUSES.includes(d.status)));
      const watcher = this._register(
        new DeploymentWatcher(deployments, { idleIntervalMs: settings.monitorCheckIntervalMs(), warn: (message) => this.container.log.warn(message) }),
      );
      this._register(
        watcher.onDidChange((change) => {
          for (const id of change.ids) this.judge(id, watcher.stats(id));
          this.emitter.fire(change);
        }),
      );
      this.watcher = watcher;
      watcher.setActive(this.active);
      return watcher;
    });
    try {
      const watcher = await this.making;
      return this.isDisposed ? undefined : watcher;
    } catch (err) {
      this.making = undefined;
      this.container.log.warn(`Deployments monitor: ${(err as Error).message}`);
      return undefined;
    }
  }
}
