import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Deployments } from '../core/deploy/deployments.ts';
import { requestStats, type RequestStats } from '../core/deploy/stats.ts';
import { LIVE_STATUSES, type Deployment } from '../core/deploy/types.ts';
import type { Container } from './container.ts';

/** How often the live deployments are looked at, only while the Deployments view is visible. */
export const MONITOR_INTERVAL_MS = 5000;
/** Stats cover the end of the request log: recent traffic, and a bounded read however long it grows. */
const STATS_BYTES = 1 << 20;

interface Cached {
  size: number;
  mtimeMs: number;
  stats: RequestStats;
}

/**
 * Traffic and health of the running deployments for the Deployments view. One timer, running
 * only while the view is visible and something is live: each tick re-reads a request log only
 * when its size or mtime moved, asks the core whether the servers are still there (a server
 * started by the CLI has nobody watching it exit), and fires one change when anything did.
 */
export class DeploymentMonitor implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Stats of a live deployment changed (coalesced: at most once per tick). */
  readonly onDidChange = this.emitter.event;
  private readonly container: Container;
  private readonly cache = new Map<number, Cached>();
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private visible = false;
  private live = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private reconcileFailed = false;
  private disposed = false;

  constructor(container: Container) {
    this.container = container;
    this.disposables.push(container.changes.onDidChange((change) => {
        if (change.everything || change.deployments.length > 0) void this.checkLive();
      }));
  }

  /** Follows a tree view's visibility: no timer while nobody looks. */
  attach(view: vscode.TreeView<unknown>): void {
    this.setVisible(view.visible);
    this.disposables.push(view.onDidChangeVisibility((e) => this.setVisible(e.visible)));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) void this.checkLive();
    else this.schedule();
  }

  /** Whether the timer is running (tests). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Request stats of a deployment, parsed again only when its log changed; undefined when its
   * target keeps no request log on this machine.
   */
  stats(d: Deployment): RequestStats | undefined {
    const log = typeof d.config.requestLog === 'string' ? d.config.requestLog : undefined;
    if (!log) return undefined;
    const stamp = fileStamp(log);
    const cached = this.cache.get(d.id);
    if (cached && cached.size === stamp.size && cached.mtimeMs === stamp.mtimeMs) return cached.stats;
    const stats = requestStats(log, { maxBytes: STATS_BYTES });
    this.cache.set(d.id, { ...stamp, stats });
    return stats;
  }

  /** Looks now, instead of at the next tick. */
  async tick(): Promise<void> {
    if (this.ticking || this.disposed || !this.container.hasDatabase()) return;
    this.ticking = true;
    try {
      const live = liveDeployments(await this.container.deploymentRecords());
      let changed = false;
      for (const d of live) {
        const log = typeof d.config.requestLog === 'string' ? d.config.requestLog : undefined;
        const cached = this.cache.get(d.id);
        if (!log) continue;
        const stamp = fileStamp(log);
        if (!cached || cached.size !== stamp.size || cached.mtimeMs !== stamp.mtimeMs) {
          this.stats(d);
          changed = true;
        }
      }
      for (const id of this.cache.keys()) if (!live.some((d) => d.id === id)) this.cache.delete(id);
      await this.reconcile();
      if (changed) this.emitter.fire();
      this.live = live.length > 0;
    } catch (err) {
      this.container.log.warn(`Deployments monitor: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
      this.schedule();
    }
  }

  private async reconcile(): Promise<void> {
    try {
      // Marks servers that are gone "stopped unexpectedly"; the store's change event refreshes the views.
      await (await this.container.deployments()).reconcile();
      this.reconcileFailed = false;
    } catch (err) {
      // A broken deploy.json fails every tick: say it once.
      if (!this.reconcileFailed) this.container.log.warn(`Checking the deployments failed: ${(err as Error).message}`);
      this.reconcileFailed = true;
    }
  }

  private async checkLive(): Promise<void> {
    if (this.disposed || !this.visible || !this.container.openStore) {
      this.schedule();
      return;
    }
    try {
      this.live = liveDeployments(await this.container.deploymentRecords()).length > 0;
    } catch (err) {
      this.container.log.warn(`Deployments monitor: ${(err as Error).message}`);
      this.live = false;
    }
    this.schedule();
  }

  private schedule(): void {
    const wanted = this.visible && this.live && !this.disposed;
    if (wanted && !this.timer) this.timer = setInterval(() => void this.tick(), MONITOR_INTERVAL_MS);
    if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.schedule();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function liveDeployments(deployments: Deployments): Deployment[] {
  return deployments.list().filter((d) => LIVE_STATUSES.includes(d.status));
}

function fileStamp(file: string): { size: number; mtimeMs: number } {
  try {
    const s = statSync(file);
    return { size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return { size: -1, mtimeMs: -1 };
  }
}
