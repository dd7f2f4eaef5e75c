import { statSync } from 'node:fs';
import type { Deployments } from '../deploy/deployments.ts';
import { LIVE_STATUSES, type Deployment } from '../deploy/types.ts';
import { Emitter, type Disposable, type Event } from '../events.ts';
import { requestStats, type RequestStats } from './requestLog.ts';

/** How often the live deployments are looked at while someone looks. */
export const WATCH_INTERVAL_MS = 5000;
/** Stats cover the end of the request log: recent traffic, and a bounded read however long it grows. */
const STATS_BYTES = 1 << 20;

export interface DeploymentWatcherOptions {
  /** Milliseconds between looks while someone looks (tests use a short one). */
  intervalMs?: number;
  /** Milliseconds between looks while nobody looks (`setActive(false)`), so alerts still come; none without it. */
  idleIntervalMs?: number;
  /** Problems of a look, one line each; a broken deploy.json is said once, not at every tick. */
  warn: (message: string) => void;
}

/** One tick's changes: the deployments whose traffic stats moved or that were found gone. */
export interface DeploymentChange {
  readonly ids: readonly number[];
}

interface Cached {
  log: string;
  size: number;
  mtimeMs: number;
  stats: RequestStats;
}

/**
 * Traffic and liveness of the running deployments, for a view that shows them. One timer, running
 * only while something is live: every `intervalMs` while the view is active (`setActive`), every
 * `idleIntervalMs` (if given) while it is not. Ticks never overlap: each re-reads a request
 * log only when its size or mtime moved, asks the targets whether the servers are still there (a
 * server started by the CLI has nobody watching it exit; `Deployments.reconcile` marks it
 * "stopped unexpectedly"), and fires `onDidChange` once with every id that changed.
 *
 * The editor adapter: `setActive(view.visible)` on each visibility change, `recheck()` on every
 * database change (a deployment may have started elsewhere), `stats(id)` when drawing an item,
 * refresh the items named by `onDidChange`, and `dispose()` with the view.
 */
export class DeploymentWatcher implements Disposable {
  private readonly emitter = new Emitter<DeploymentChange>();
  readonly onDidChange: Event<DeploymentChange> = this.emitter.event;
  private readonly deployments: Deployments;
  private readonly intervalMs: number;
  private idleIntervalMs: number | undefined;
  private readonly warn: (message: string) => void;
  private readonly cache = new Map<number, Cached>();
  private active = false;
  private live = false;
  private timer: { handle: NodeJS.Timeout; everyMs: number } | undefined;
  private ticking = false;
  private reconcileFailed = false;
  private disposed = false;

  constructor(deployments: Deployments, options: DeploymentWatcherOptions) {
    this.deployments = deployments;
    this.intervalMs = options.intervalMs ?? WATCH_INTERVAL_MS;
    this.idleIntervalMs = options.idleIntervalMs;
    this.warn = options.warn;
  }

  /** Whether anyone looks (the view is visible): the short cadence while someone does. */
  setActive(active: boolean): void {
    this.active = active;
    this.recheck();
  }

  /** The cadence while nobody looks; undefined: no looks then. */
  setIdleInterval(ms: number | undefined): void {
    this.idleIntervalMs = ms;
    this.recheck();
  }

  /** Whether the timer is running. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Milliseconds between the running timer's looks; undefined when it is not running. */
  get cadenceMs(): number | undefined {
    return this.timer?.everyMs;
  }

  /**
   * Request stats of a deployment, parsed again only when its log changed; undefined when its
   * target keeps no request log on this machine (or there is no such deployment).
   */
  stats(id: number): RequestStats | undefined {
    const log = this.cache.get(id)?.log ?? this.requestLogOf(id);
    if (log === undefined) return undefined;
    this.refresh(id, log);
    return this.cache.get(id)!.stats;
  }

  /** Looks again whether anything is live, to start or stop the timer (call it when the database changed). */
  recheck(): void {
    if (this.disposed || this.wantedEveryMs(true) === undefined) return this.schedule();
    try {
      this.live = this.liveDeployments().length > 0;
    } catch (err) {
      this.warn(`Deployments monitor: ${(err as Error).message}`);
      this.live = false;
    }
    this.schedule();
  }

  /** Looks now, instead of at the next tick. */
  async tick(): Promise<void> {
    if (this.ticking || this.disposed) return;
    this.ticking = true;
    try {
      const live = this.liveDeployments();
      const changed = new Set<number>();
      for (const d of live) {
        const log = this.deployments.requestLog(d);
        if (log !== undefined && this.refresh(d.id, log)) changed.add(d.id);
      }
      for (const id of this.cache.keys()) if (!live.some((d) => d.id === id)) this.cache.delete(id);
      const gone = new Set((await this.reconcile()).map((d) => d.id));
      for (const id of gone) changed.add(id);
      this.live = live.some((d) => !gone.has(d.id));
      if (changed.size > 0) this.emitter.fire({ ids: [...changed] });
    } catch (err) {
      this.warn(`Deployments monitor: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
      this.schedule();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.schedule();
    this.emitter.dispose();
  }

  /** Re-reads the stats when the log's size or mtime moved; true when it did. */
  private refresh(id: number, log: string): boolean {
    const stamp = fileStamp(log);
    const cached = this.cache.get(id);
    if (cached && cached.log === log && cached.size === stamp.size && cached.mtimeMs === stamp.mtimeMs) return false;
    this.cache.set(id, { log, ...stamp, stats: requestStats(log, { maxBytes: STATS_BYTES }) });
    return true;
  }

  private requestLogOf(id: number): string | undefined {
    const d = this.deployments.find(id);
    return d && this.deployments.requestLog(d);
  }

  private liveDeployments(): Deployment[] {
    return this.deployments.list().filter((d) => LIVE_STATUSES.includes(d.status));
  }

  private async reconcile(): Promise<Deployment[]> {
    try {
      const gone = await this.deployments.reconcile();
      this.reconcileFailed = false;
      return gone;
    } catch (err) {
      if (!this.reconcileFailed) this.warn(`Checking the deployments failed: ${(err as Error).message}`);
      this.reconcileFailed = true;
      return [];
    }
  }

  /** The cadence wanted now (given that something is live); undefined for no timer. */
  private wantedEveryMs(live = this.live): number | undefined {
    if (this.disposed || !live) return undefined;
    return this.active ? this.intervalMs : this.idleIntervalMs;
  }

  private schedule(): void {
    const everyMs = this.wantedEveryMs();
    if (this.timer && this.timer.everyMs !== everyMs) {
      clearInterval(this.timer.handle);
      this.timer = undefined;
    }
    if (everyMs !== undefined && !this.timer) this.timer = { handle: setInterval(() => void this.tick(), everyMs), everyMs };
  }
}

function fileStamp(file: string): { size: number; mtimeMs: number } {
  const info = statSync(file, { throwIfNoEntry: false });
  return info ? { size: info.size, mtimeMs: info.mtimeMs } : { size: -1, mtimeMs: -1 };
}
