// No `vscode` import: the Runs Table's presenter, behind a port like the compare panel's
// CompareSession, so it runs (and is tested) on plain Node. It lives beside its panel because it
// shapes the page's rows (src/shared/runsTableProtocol.ts), which is presentation.
import { guessDirection } from '../../../core/compare/direction.ts';
import { setOwn } from '../../../core/own.ts';
import type { StoreChange } from '../../../core/store/changes.ts';
import type { RunTableRow } from '../../../core/store/runTable.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Direction } from '../../../shared/compareProtocol.ts';
import { toWire, type HostMessage, type RenderedReport, type TableAction, type TableMetric, type TableRun, type TableView, type WebviewMessage } from '../../../shared/runsTableProtocol.ts';
import { runPageAction } from '../pageActions.ts';
import { RenderTracker } from '../renderTracker.ts';

/** What the presenter needs from its host: a line to the page, the editor's commands and the workspace's memory. */
export interface RunsTablePort {
  post(message: HostMessage): void;
  /** Runs an existing command (Compare, Stop…) on the selected runs. */
  execute(action: TableAction, runs: readonly TableRun[]): Promise<void>;
  /** Double-click or Enter: the run in the Experiments view. */
  open(runId: number): Promise<void>;
  loadView(): TableView | undefined;
  saveView(view: TableView): void;
  showError(text: string): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/**
 * Every run of the workspace for the table page. The page gets all runs once per `ready` (one
 * store query), then only the runs a change names, so a live run updates in place while the page
 * keeps its scroll, selection and sort. Nothing is read for a page that is not there.
 */
export class RunsTablePresenter {
  private readonly store: Store;
  private readonly port: RunsTablePort;
  private ready = false;
  /** The runs the page holds, for the actions' arguments (a model file, an id that still exists). */
  private readonly shown = new Map<number, TableRun>();
  /** What the page drew last and the errors it reported. */
  readonly render: RenderTracker<RenderedReport>;

  constructor(store: Store, port: RunsTablePort) {
    this.store = store;
    this.port = port;
    this.render = new RenderTracker('Runs table', (message) => port.log('warn', message));
  }

  webviewHidden(): void {
    this.ready = false;
  }

  /** Sends what a change touched: the runs it names again, the deleted ones to drop; everything when it cannot be narrowed. */
  changed(change: StoreChange): void {
    if (!this.ready) return;
    if (change.everything) return this.sendAll();
    const ids = [...new Set([...change.runs, ...change.metrics])];
    if (ids.length === 0 && change.deletedRuns.length === 0) return;
    const runs = ids.length > 0 ? this.store.runTable(ids).map(toTableRun) : [];
    const found = new Set(runs.map((r) => r.id));
    const deleted = [...new Set([...change.deletedRuns, ...ids.filter((id) => !found.has(id))])].filter((id) => this.shown.has(id));
    if (runs.length === 0 && deleted.length === 0) return;
    for (const id of deleted) this.shown.delete(id);
    for (const run of runs) this.shown.set(run.id, run);
    this.port.post({ type: 'update', runs, deleted, directions: directionsOf(runs), now: Date.now() });
  }

  async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendAll();
        return;
      case 'action':
        await this.act(() => this.port.execute(message.action, message.runIds.flatMap((id) => this.shown.get(id) ?? [])), message.action);
        return;
      case 'open':
        await this.act(() => this.port.open(message.runId), 'open');
        return;
      case 'saveView':
        this.port.saveView(message.view);
        return;
      case 'rendered':
      case 'error':
        this.render.receive(message);
        return;
      default: {
        const never: never = message;
        this.port.log('warn', `Runs table: unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  dispose(): void {
    this.render.dispose();
  }

  private sendAll(): void {
    let message: HostMessage;
    try {
      const runs = this.store.runTable().map(toTableRun);
      this.shown.clear();
      for (const run of runs) this.shown.set(run.id, run);
      message = { type: 'runs', runs, directions: directionsOf(runs), view: this.port.loadView() ?? null, now: Date.now() };
    } catch (err) {
      message = { type: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    this.port.post(message);
  }

  /** A command's error is shown, never thrown; faults are logged too. */
  private act(fn: () => Promise<void>, what: string): Promise<void> {
    return runPageAction(this.port, `Runs table: ${what}`, fn);
  }
}

export function toTableRun(row: RunTableRow): TableRun {
  const metrics: Record<string, TableMetric> = {};
  for (const [key, m] of Object.entries(row.metrics)) {
    setOwn(metrics, key, [toWire(m.last), toWire(m.min), toWire(m.max), m.nonfinite]);
  }
  const { modelArtifact, ...rest } = row;
  return { ...rest, model: modelArtifact, metrics };
}

function directionsOf(runs: readonly TableRun[]): Record<string, Direction> {
  const directions: Record<string, Direction> = {};
  for (const run of runs) {
    for (const key of Object.keys(run.metrics)) {
      if (!Object.hasOwn(directions, key)) setOwn(directions, key, guessDirection(key));
    }
  }
  return directions;
}
