// No `vscode` import: the Lineage panel's presenter, behind a port like the compare panel's
// CompareSession, so it runs (and is tested) on plain Node. It lives beside its panel rather
// than in src/core because it builds the page's graph (src/shared/lineageProtocol.ts), which is
// presentation, not lineage.
import { lineage, type LineageRef } from '../../../core/registry/lineage.ts';
import type { StoreChange } from '../../../core/store/changes.ts';
import type { Store } from '../../../core/store/store.ts';
import type { LineageKind } from '../../../core/store/types.ts';
import type { GraphNode, HostMessage, LineageGraph, RenderedReport, WebviewMessage } from '../../../shared/lineageProtocol.ts';
import { runPageAction } from '../pageActions.ts';
import { RenderTracker } from '../renderTracker.ts';
import { buildGraph } from './graph.ts';

/** What the presenter needs from its host: a line to the page and the editor's actions. */
export interface LineagePort {
  post(message: HostMessage): void;
  setTitle(title: string): void;
  /** What Enter on a node does (reveal the run in the Experiments view, open the dataset…). */
  open(node: GraphNode): Promise<void>;
  /** Shows an error to the user (a message, never a throw). */
  showError(text: string): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

const KINDS: readonly LineageKind[] = ['dataset', 'run', 'model_version', 'deployment'];

/**
 * Dataset(s) → run → model version → deployment for one root. The page is not retained while
 * hidden: it reloads, says `ready`, and gets a graph built then. Nothing is built for a page that
 * is not there, and a rebuild that changes nothing sends nothing.
 */
export class LineagePresenter {
  private readonly store: Store;
  private readonly workspace: string;
  private readonly port: LineagePort;
  private rootRef: LineageRef;
  private graph: LineageGraph | undefined;
  private ready = false;
  /** What the page shows now, so a database change that leaves the graph alone sends nothing. */
  private shown: string | undefined;
  /** What the page drew last and the errors it reported. */
  readonly render: RenderTracker<RenderedReport>;

  constructor(store: Store, workspace: string, root: LineageRef, port: LineagePort) {
    this.store = store;
    this.workspace = workspace;
    this.rootRef = root;
    this.port = port;
    this.render = new RenderTracker('Lineage', (message) => port.log('warn', message));
  }

  get root(): LineageRef {
    return { ...this.rootRef };
  }

  /** The graph last sent (or about to be sent) to the page. */
  get currentGraph(): LineageGraph | undefined {
    return this.graph;
  }

  setRoot(root: LineageRef): void {
    this.rootRef = root;
    this.render.forget();
    this.refresh();
  }

  /** The page went away (hidden, not retained): nothing is built until it says `ready` again. */
  webviewHidden(): void {
    this.ready = false;
  }

  /**
   * Whether a change can alter the graph: a node it shows changed or went, a model or deployment
   * changed (a new version or deployment may hang below a shown node), or a run was created
   * after the graph was built (a re-run of a shown run). Metric points never can.
   */
  affectedBy(change: StoreChange): boolean {
    if (change.everything || change.models.length > 0 || change.deployments.length > 0) return true;
    const runs = new Set((this.graph?.nodes ?? []).filter((n) => n.kind === 'run').map((n) => n.id));
    const newest = Math.max(0, ...runs);
    return change.runs.some((id) => runs.has(id) || id > newest) || change.deletedRuns.some((id) => runs.has(id));
  }

  /** Rebuilds the graph from the store and sends it when the page is there and it changed. */
  refresh(): void {
    if (!this.ready) return;
    let message: HostMessage;
    try {
      const graph = buildGraph(lineage(this.store, this.rootRef), this.workspace);
      this.graph = graph;
      this.port.setTitle(graph.title);
      message = { type: 'graph', graph };
    } catch (err) {
      message = { type: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    const text = JSON.stringify(message);
    if (text === this.shown) return;
    this.shown = text;
    this.port.post(message);
  }

  /** What Enter on a node does (the page's `open`); errors are shown, never thrown. */
  async openNode(key: string): Promise<void> {
    const node = this.graph?.nodes.find((n) => n.key === key);
    if (!node || !node.openable) return;
    await runPageAction(this.port, `Lineage: opening ${node.key}`, () => this.port.open(node));
  }

  async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A fresh page (first load, or shown again after being hidden): build from the store now.
        this.ready = true;
        this.shown = undefined;
        this.refresh();
        return;
      case 'open':
        await this.openNode(message.key);
        return;
      case 'rendered':
      case 'error':
        this.render.receive(message);
        return;
      default: {
        const never: never = message;
        this.port.log('warn', `Lineage: unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  dispose(): void {
    this.render.dispose();
  }
}

/** `deployment:4`, `model_version:2`, `run:7`, `dataset:1`. */
export function parseRoot(text: unknown): LineageRef | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([a-z_]+):(\d+)$/.exec(text);
  if (!m || !KINDS.includes(m[1] as LineageKind)) return undefined;
  return { kind: m[1] as LineageKind, id: Number(m[2]) };
}
