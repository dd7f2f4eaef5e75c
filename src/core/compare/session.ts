import { Emitter, nextMatching, type Disposable, type Event } from '../events.ts';
import type { StoreChange } from '../store/changes.ts';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import type { Direction, HostMessage, RenderedReport, SeriesQuery, ViewState, WebviewMessage } from '../../shared/compareProtocol.ts';
import { X_AXES } from './constants.ts';
import { buildTable, compareState, defaultMetrics, loadRuns, snapshot, tableCsv, type RunSnapshot } from './table.ts';
import { clampPoints, SeriesReader, seriesCsv } from './series.ts';
import { runEvaluations } from './evaluation.ts';
import { gateMetrics } from './gateMetrics.ts';

/** What the session needs from whoever shows the webview (the VS Code panel, or a test page). */
export interface ComparePort {
  post(message: HostMessage): void;
  /** Asks where to save and writes the file; resolves to the path, or undefined when cancelled. */
  save(file: { suggestedName: string; data: Uint8Array; kind: 'csv' | 'png' }): Promise<string | undefined>;
  showCodeDiff(a: number, b: number): Promise<void>;
  /** A run was clicked in the webview (null: highlight cleared). */
  highlighted?(runId: number | null): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface CompareSessionOptions {
  /** Live updates are coalesced to at most one per this many ms (default 1000). */
  refreshMs?: number;
  /** While a shown run is running, the store is also polled this often for writes made by other processes (default 2000). */
  pollMs?: number;
  /** The workspace whose profiles' gate metrics are charted first on a fresh panel ('' or absent: none). */
  workspace?: string;
}

/** Messages kept while the webview is not ready; everything else is rebuilt on `ready`. */
const QUEUED_WHILE_HIDDEN = new Set<HostMessage['type']>(['highlight', 'error']);
const MAX_QUEUED = 100;

/**
 * The Compare panel's host side without VS Code: answers the webview's messages from the store and
 * pushes live updates. The panel (src/webviews/compare) and the browser test harness drive it alike.
 */
export class CompareSession implements Disposable {
  private readonly store: Store;
  private readonly port: ComparePort;
  private readonly reader: SeriesReader;
  private readonly refreshMs: number;
  private readonly pollMs: number;
  private readonly workspace: string;
  private runIds: number[];
  private runs: Run[] = [];
  private snaps: RunSnapshot[] = [];
  private paramsById = new Map<number, Record<string, string>>();
  private ready = false;
  private queue: HostMessage[] = [];
  private view: ViewState | null = null;
  private overrides: Record<string, Direction> = {};
  private readonly lastQueries = new Map<string, { requestId: number; query: SeriesQuery }>();
  private readonly dirtyRuns = new Set<number>();
  private dirtyState = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private signatures = new Map<number, string>();
  private readonly subscription: Disposable;
  private readonly renders = new Emitter<RenderedReport>();
  readonly onDidRender: Event<RenderedReport> = this.renders.event;
  /** The last report the webview posted after drawing; tests await it. */
  lastRendered: RenderedReport | null = null;
  private disposed = false;

  constructor(store: Store, runIds: readonly number[], port: ComparePort, options: CompareSessionOptions = {}) {
    this.store = store;
    this.port = port;
    this.reader = new SeriesReader(store);
    this.refreshMs = options.refreshMs ?? 1000;
    this.pollMs = options.pollMs ?? 2000;
    this.workspace = options.workspace ?? '';
    this.runIds = [...runIds];
    this.reload();
    this.subscription = store.onDidChange((change) => this.onStoreChange(change));
  }

  /** The runs shown, in order. */
  get shownRunIds(): number[] {
    return this.runs.map((r) => r.id);
  }

  get currentView(): ViewState | null {
    return this.view;
  }

  /** Shows another selection; the webview keeps its view settings and asks for series again. */
  setRuns(runIds: readonly number[]): void {
    this.runIds = [...runIds];
    this.lastQueries.clear();
    this.reload();
    if (this.ready) this.sendInit();
  }

  /** The webview went away (panel hidden without retained context): queue until the next `ready`. */
  webviewHidden(): void {
    this.ready = false;
  }

  /** Highlights a run in the webview (e.g. selected elsewhere). */
  highlight(runId: number | null): void {
    this.post({ type: 'highlight', runId });
  }

  async handle(message: WebviewMessage): Promise<void> {
    if (this.disposed) return;
    try {
      await this.dispatch(message);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.port.log('error', `Compare: ${message.type} failed: ${err instanceof Error ? (err.stack ?? text) : text}`);
      this.post({ type: 'error', message: text, requestId: message.type === 'requestSeries' ? message.requestId : null });
    }
  }

  private async dispatch(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.view = message.view;
        this.overrides = sanitizeDirections(message.view?.directions ?? {});
        // Everything is rebuilt for a fresh webview; only notices survive the wait.
        this.dirtyRuns.clear();
        this.dirtyState = false;
        this.lastQueries.clear();
        this.reload();
        this.sendInit();
        for (const queued of this.queue.splice(0)) this.port.post(queued);
        return;
      case 'view':
        this.view = message.view;
        return;
      case 'requestSeries': {
        const query = sanitizeQuery(message.query);
        this.lastQueries.set(query.metric, { requestId: message.requestId, query });
        const data = this.reader.query(this.runs, query, (id) => this.paramsById.get(id) ?? {});
        this.post({ type: 'series', requestId: message.requestId, partial: false, ...data });
        return;
      }
      case 'setDirections':
        this.overrides = sanitizeDirections(message.directions);
        this.post({ type: 'state', state: compareState(this.snaps, this.overrides) });
        this.post({ type: 'table', table: buildTable(this.snaps, this.directions()) });
        return;
      case 'requestEvaluation': {
        const runs = await Promise.all(this.runs.map((run) => runEvaluations(this.store, run)));
        this.post({ type: 'evaluation', runs });
        return;
      }
      case 'highlight':
        this.port.highlighted?.(message.runId);
        return;
      case 'exportCsv': {
        if (message.what === 'table') {
          const csv = tableCsv(buildTable(this.snaps, this.directions()));
          await this.save('runboard-compare.csv', csv, 'csv');
        } else {
          const query = sanitizeQuery(message.query);
          const data = this.reader.query(this.runs, query, (id) => this.paramsById.get(id) ?? {});
          const names = new Map(this.runs.map((r) => [r.id, r.name]));
          await this.save(`${fileSafe(query.metric)}.csv`, seriesCsv(data, (id) => names.get(id) ?? String(id)), 'csv');
        }
        return;
      }
      case 'exportPng': {
        const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(message.dataUrl);
        if (!match) throw new Error('The chart image is not a PNG data URL');
        await this.port.save({ suggestedName: `${fileSafe(message.name)}.png`, data: Buffer.from(match[1]!, 'base64'), kind: 'png' });
        return;
      }
      case 'showCodeDiff': {
        const [a, b] = message.runIds;
        if (!Number.isInteger(a) || !Number.isInteger(b)) throw new Error('Pick two runs to compare their code');
        await this.port.showCodeDiff(a, b);
        return;
      }
      case 'rendered':
        this.lastRendered = message.report;
        this.renders.fire(message.report);
        return;
      case 'error':
        this.port.log('warn', `Compare webview: ${message.message}`);
        return;
      default: {
        const never: never = message;
        throw new Error(`Unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Resolves with the last `rendered` report if it matches, else with the next one that does
   * (integration tests: `await ComparePanel.current?.waitForRendered()`).
   */
  waitForRendered(predicate: (report: RenderedReport) => boolean = () => true, timeoutMs = 15_000): Promise<RenderedReport> {
    return nextMatching(this.onDidRender, this.lastRendered, predicate, timeoutMs, `The Compare webview did not render within ${timeoutMs} ms`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.subscription.dispose();
    this.renders.dispose();
    clearTimeout(this.refreshTimer);
    clearInterval(this.pollTimer);
    this.queue = [];
  }

  // ── internals ────────────────────────────────────────────────────────────
  private post(message: HostMessage): void {
    if (this.disposed) return;
    if (this.ready) {
      this.port.post(message);
    } else if (QUEUED_WHILE_HIDDEN.has(message.type) && this.queue.length < MAX_QUEUED) {
      this.queue.push(message);
    }
  }

  private directions(): Record<string, Direction> {
    return compareState(this.snaps, this.overrides).directions;
  }

  private reload(): void {
    this.runs = loadRuns(this.store, this.runIds);
    this.snaps = snapshot(this.store, this.runs);
    this.paramsById = new Map(this.snaps.map((s) => [s.run.id, s.params]));
    this.signatures = new Map(this.snaps.map((s) => [s.run.id, signature(s)]));
    this.updatePolling();
  }

  private sendInit(): void {
    const state = compareState(this.snaps, this.overrides);
    const gates = gateMetrics(this.workspace, this.runs.map((r) => r.profile));
    this.post({ type: 'init', state, defaultMetrics: defaultMetrics(state.metrics, gates) });
    this.post({ type: 'table', table: buildTable(this.snaps, state.directions) });
  }

  private onStoreChange(change: StoreChange): void {
    const shown = (ids: readonly number[]) => (change.everything ? this.runIds : ids.filter((id) => this.runIds.includes(id)));
    // A run whose record changed may have logged in the same write: `runs` does not repeat it under `metrics`.
    const logged = [...shown(change.metrics), ...shown(change.runs)];
    const deleted = new Set(shown(change.deletedRuns));
    if (logged.length === 0 && deleted.size === 0) return;
    for (const id of logged) {
      this.dirtyRuns.add(id);
      this.reader.invalidate(id);
    }
    if (deleted.size > 0) this.runIds = this.runIds.filter((id) => !deleted.has(id));
    if (change.everything || deleted.size > 0 || shown(change.runs).length > 0) this.dirtyState = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.refreshTimer !== undefined || this.disposed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.flush();
    }, this.refreshMs);
  }

  /** Pushes what changed: state and table, then each shown chart's series for the runs that logged. */
  private flush(): void {
    if (this.disposed || !this.ready || (this.dirtyRuns.size === 0 && !this.dirtyState)) return;
    const changed = new Set(this.dirtyRuns);
    this.dirtyRuns.clear();
    this.dirtyState = false;
    try {
      this.reload();
      const state = compareState(this.snaps, this.overrides);
      this.post({ type: 'state', state });
      this.post({ type: 'table', table: buildTable(this.snaps, state.directions) });
      if (changed.size === 0) return;
      const shown = this.view ? new Set(this.view.metrics) : null;
      for (const [metric, { requestId, query }] of this.lastQueries) {
        if (shown && !shown.has(metric)) continue;
        const whole = query.groupBy !== null;
        const data = this.reader.query(this.runs, query, (id) => this.paramsById.get(id) ?? {}, whole ? undefined : changed);
        this.post({ type: 'series', requestId, partial: !whole, ...data });
      }
    } catch (err) {
      this.port.log('error', `Compare: live refresh failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Polls only while a shown run is running: writes from other processes fire no event here. */
  private updatePolling(): void {
    const live = this.runs.some((r) => r.status === 'running' || r.status === 'queued');
    if (live && this.pollTimer === undefined && !this.disposed) {
      this.pollTimer = setInterval(() => this.poll(), this.pollMs);
      this.pollTimer.unref?.();
    } else if (!live && this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private poll(): void {
    if (!this.ready || this.disposed) return;
    try {
      for (const run of loadRuns(this.store, this.runIds)) {
        const sig = signature({ run, summaries: this.store.summaries(run.id) });
        const before = this.signatures.get(run.id);
        if (before === sig) continue;
        if (before?.split('|')[1] !== sig.split('|')[1]) {
          this.dirtyRuns.add(run.id);
          this.reader.invalidate(run.id);
        }
        this.dirtyState = true;
      }
      if (this.dirtyRuns.size || this.dirtyState) this.schedule();
      else this.updatePolling();
    } catch (err) {
      this.port.log('warn', `Compare: polling the store failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async save(suggestedName: string, text: string, kind: 'csv' | 'png'): Promise<void> {
    await this.port.save({ suggestedName, data: new TextEncoder().encode(text), kind });
  }
}

/** A run's status and how many points it has: a change means a refresh. */
function signature(s: Pick<RunSnapshot, 'run' | 'summaries'>): string {
  let points = 0;
  let lastStep = 0;
  for (const m of Object.values(s.summaries)) {
    points += m.count;
    lastStep = Math.max(lastStep, m.lastStep);
  }
  return `${s.run.status}|${points}:${lastStep}`;
}

/** Messages come from a page: check their shape before they reach SQL. */
function sanitizeQuery(q: SeriesQuery): SeriesQuery {
  if (typeof q?.metric !== 'string' || q.metric === '') throw new Error('A series query needs a metric');
  const xAxis = (X_AXES as readonly string[]).includes(q.xAxis) ? q.xAxis : 'step';
  const range =
    q.range && Number.isFinite(q.range.from) && Number.isFinite(q.range.to) && q.range.to >= q.range.from ? { from: q.range.from, to: q.range.to } : null;
  return { metric: q.metric, xAxis, range, points: clampPoints(q.points), groupBy: typeof q.groupBy === 'string' && q.groupBy !== '' ? q.groupBy : null };
}

function sanitizeDirections(d: Record<string, Direction>): Record<string, Direction> {
  // fromEntries, not assignment: a metric named `__proto__` keeps its direction.
  return Object.fromEntries(Object.entries(d ?? {}).filter((entry): entry is [string, Direction] => entry[1] === 'min' || entry[1] === 'max'));
}

/** A name fit for a file: no path separators or control characters. */
export function fileSafe(name: string): string {
  const safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').replace(/^\.+/, '').slice(0, 100);
  return safe || 'chart';
}
