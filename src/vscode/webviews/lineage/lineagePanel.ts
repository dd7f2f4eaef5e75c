import * as vscode from 'vscode';
import { UserError } from '../../../core/errors.ts';
import { nextMatching } from '../../../core/events.ts';
import { lineage, type LineageRef } from '../../../core/registry/lineage.ts';
import type { LineageKind } from '../../../core/store/types.ts';
import type { GraphNode, HostMessage, LineageGraph, LineageViewState, RenderedReport, WebviewMessage } from '../../../shared/lineageProtocol.ts';
import type { Container } from '../../container.ts';
import { buildGraph } from './graph.ts';
import { makeNonce } from '../html.ts';
import { lineageHtml } from './html.ts';

/** What Enter on a node does (reveal the run in the Experiments view, open the dataset…). */
export interface LineageOpener {
  open(node: GraphNode): Promise<void>;
}

const KINDS: readonly LineageKind[] = ['dataset', 'run', 'model_version', 'deployment'];

/**
 * The Lineage panel: one per window, showing dataset(s) → run → model version → deployment for the
 * node it was opened on, revealed with a new root when already open. The webview is not retained
 * while hidden: it reloads, posts `ready`, and gets a graph built then. Nothing is posted before
 * `ready`, and nothing is built for a webview that is not there.
 */
export class LineagePanel implements vscode.Disposable {
  static readonly viewType = 'runboard.lineage';
  /** The open panel, if any (integration tests: `api.lineage.current?.waitForRendered()`). */
  static current: LineagePanel | undefined;

  readonly panel: vscode.WebviewPanel;
  private readonly container: Container;
  private readonly opener: LineageOpener;
  private rootRef: LineageRef;
  private graph: LineageGraph | undefined;
  private ready = false;
  /** What the webview shows now, so a database change that leaves the graph alone sends nothing. */
  private shown: string | undefined;
  private readonly renders = new vscode.EventEmitter<RenderedReport>();
  private readonly disposables: vscode.Disposable[] = [this.renders];
  private disposed = false;
  /** The last report the webview posted after drawing (null before the first). */
  lastRendered: RenderedReport | null = null;
  /** Errors the webview reported (script errors, CSP violations): tests expect none. */
  readonly problems: string[] = [];

  static async show(container: Container, root: LineageRef, opener: LineageOpener): Promise<LineagePanel> {
    // Fails (a UserError) before any panel opens when the root does not exist.
    lineage(await container.store(), root);
    const current = LineagePanel.current;
    if (current && !current.disposed) {
      current.setRoot(root);
      current.panel.reveal(undefined, false);
      return current;
    }
    const panel = vscode.window.createWebviewPanel(LineagePanel.viewType, 'Lineage', vscode.ViewColumn.Active, webviewOptions(container));
    return (LineagePanel.current = new LineagePanel(panel, container, root, opener));
  }

  /** Restores a panel VS Code kept across a reload (the webview saved its root). */
  static revive(panel: vscode.WebviewPanel, container: Container, state: unknown, opener: LineageOpener): LineagePanel {
    const root = parseRoot((state as Partial<LineageViewState> | undefined)?.root);
    if (!root) throw new UserError('The lineage panel had no saved root');
    panel.webview.options = webviewOptions(container);
    LineagePanel.current?.dispose();
    return (LineagePanel.current = new LineagePanel(panel, container, root, opener));
  }

  private constructor(panel: vscode.WebviewPanel, container: Container, root: LineageRef, opener: LineageOpener) {
    this.panel = panel;
    this.container = container;
    this.opener = opener;
    this.rootRef = root;
    panel.iconPath = vscode.Uri.joinPath(container.context.extensionUri, 'media', 'runboard.svg');
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (message && typeof message === 'object' && typeof (message as { type?: unknown }).type === 'string') void this.handle(message as WebviewMessage);
      }),
      panel.onDidChangeViewState(() => {
        // Not retained: a hidden webview is gone, and the next one says `ready` again.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get root(): LineageRef {
    return { ...this.rootRef };
  }

  /** The graph last sent (or about to be sent) to the webview. */
  get currentGraph(): LineageGraph | undefined {
    return this.graph;
  }

  setRoot(root: LineageRef): void {
    this.rootRef = root;
    this.lastRendered = null;
    void this.refresh();
  }

  /** Rebuilds the graph from the store (the database changed) and sends it when the webview is there. */
  async refresh(): Promise<void> {
    if (this.disposed || !this.ready) return;
    let message: HostMessage;
    try {
      const graph = buildGraph(lineage(await this.container.store(), this.rootRef), this.container.workspace);
      this.graph = graph;
      this.panel.title = graph.title;
      message = { type: 'graph', graph };
    } catch (err) {
      message = { type: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    // A run logging metrics changes the database every few hundred ms; its lineage rarely.
    const text = JSON.stringify(message);
    if (text === this.shown) return;
    this.shown = text;
    this.post(message);
  }

  /** Resolves with the last `rendered` report that matches, or the next one. */
  waitForRendered(predicate: (report: RenderedReport) => boolean = () => true, timeoutMs = 15_000): Promise<RenderedReport> {
    return nextMatching(this.renders.event, this.lastRendered, predicate, timeoutMs, `The lineage panel did not render within ${timeoutMs} ms`);
  }

  /** What Enter on a node does (the webview's `open`); errors are shown, never thrown. */
  async openNode(key: string): Promise<void> {
    const node = this.graph?.nodes.find((n) => n.key === key);
    if (!node || !node.openable) return;
    try {
      await this.opener.open(node);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (!(err instanceof UserError)) this.container.log.error(`Lineage: opening ${node.key} failed: ${text}`);
      void vscode.window.showErrorMessage(text);
    }
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A fresh webview (first load, or shown again after being hidden): build from the store now.
        this.ready = true;
        this.shown = undefined;
        await this.refresh();
        return;
      case 'open':
        await this.openNode(message.key);
        return;
      case 'rendered':
        this.lastRendered = message.report;
        this.renders.fire(message.report);
        return;
      case 'error':
        this.problems.push(message.message);
        this.container.log.warn(`Lineage webview: ${message.message}`);
        return;
      default: {
        const never: never = message;
        this.container.log.warn(`Lineage: unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Only to a webview that said `ready`; one that is not there yet rebuilds everything when it is. */
  private post(message: HostMessage): void {
    if (!this.ready) return;
    void this.panel.webview.postMessage(message).then(undefined, (err: unknown) => this.container.log.warn(`Lineage: post failed: ${String(err)}`));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (LineagePanel.current === this) LineagePanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private html(): string {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.container.context.extensionUri, 'dist', 'webview');
    return lineageHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'lineage.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'lineage.css')).toString(),
    });
  }
}

/** `deployment:4`, `model_version:2`, `run:7`, `dataset:1`. */
export function parseRoot(text: unknown): LineageRef | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([a-z_]+):(\d+)$/.exec(text);
  if (!m || !KINDS.includes(m[1] as LineageKind)) return undefined;
  return { kind: m[1] as LineageKind, id: Number(m[2]) };
}

function webviewOptions(container: Container): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(container.context.extensionUri, 'dist', 'webview')],
  };
}
