import * as vscode from 'vscode';
import type { Deployment } from '../core/deploy/types.ts';
import { DeploymentWatcher, type DeploymentChange } from '../core/monitor/deploymentWatcher.ts';
import type { RequestStats } from '../core/monitor/requestLog.ts';
import type { Container } from './container.ts';
import { Disposable } from './lifecycle.ts';

/**
 * The Deployments view's side of the core's DeploymentWatcher (traffic stats, liveness, the
 * timer): it follows the view's visibility and the database's changes. The watcher is made on
 * first need, once the database is open, since it reads through the window's one Deployments.
 */
export class DeploymentMonitor extends Disposable {
  private readonly emitter = this._register(new vscode.EventEmitter<DeploymentChange>());
  /** Stats of live deployments changed, or servers were found gone (at most once per tick). */
  readonly onDidChange = this.emitter.event;
  private readonly container: Container;
  private watcher: DeploymentWatcher | undefined;
  private making: Promise<DeploymentWatcher> | undefined;
  private visible = false;

  constructor(container: Container) {
    super();
    this.container = container;
    this._register(
      container.changes.onDidChange((change) => {
        if (change.everything || change.deployments.length > 0) void this.withWatcher((watcher) => watcher.recheck());
      }),
    );
  }

  /** Follows a tree view's visibility: no timer while nobody looks. */
  attach(view: vscode.TreeView<unknown>): void {
    this.setVisible(view.visible);
    this._register(view.onDidChangeVisibility((e) => this.setVisible(e.visible)));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    // The watcher reads `visible` when it is there, so a quick show-then-hide ends hidden.
    if (this.watcher || visible) void this.withWatcher((watcher) => watcher.setActive(this.visible));
  }

  /** Whether the timer is running (tests). */
  get running(): boolean {
    return this.watcher?.running ?? false;
  }

  /** Request stats of a deployment; undefined when its target keeps no request log here. */
  async stats(d: Deployment): Promise<RequestStats | undefined> {
    return (await this.ready())?.stats(d.id);
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
      const watcher = this._register(new DeploymentWatcher(deployments, { warn: (message) => this.container.log.warn(message) }));
      this._register(watcher.onDidChange((change) => this.emitter.fire(change)));
      this.watcher = watcher;
      watcher.setActive(this.visible);
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
