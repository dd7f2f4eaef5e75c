import * as vscode from 'vscode';
import { lineage, type LineageRef } from '../../../core/registry/lineage.ts';
import type { StoreChange } from '../../../core/store/changes.ts';
import type { GraphNode, HostMessage, LineageGraph, LineageViewState, RenderedReport, WebviewMessage } from '../../../shared/lineageProtocol.ts';
import type { Container } from '../../container.ts';
import { Disposable } from '../../lifecycle.ts';
import { WebviewHost, type WebviewPage } from '../host.ts';
import { lineageHtml } from './html.ts';
import { LineagePresenter, parseRoot } from './presenter.ts';

export const LINEAGE_VIEW_TYPE = 'runboard.lineage';

/** What Enter on a node does (reveal the run in the Experiments view, open the dataset…). */
export type LineageOpener = (node: GraphNode) => Promise<void>;

/**
 * The Lineage panel: one per window, revealed with a new root when already open. The webview
 * host does the page, the handshake and the lifetime; LineagePresenter (no vscode) builds and
 * sends the graph; this class connects them.
 */
export class LineagePanel extends Disposable {
  /** The open panel, if any (integration tests: `api.testing.lineagePanel()?.waitForRendered()`). */
  static current: LineagePanel | undefined;

  private readonly host: WebviewHost<HostMessage, WebviewMessage>;
  private readonly presenter: LineagePresenter;

  static async show(container: Container, root: LineageRef, opener: LineageOpener): Promise<LineagePanel> {
    const store = await container.store();
    // Fails (a UserError) before any panel opens when the root does not exist.
    lineage(store, root);
    const current = LineagePanel.current;
    if (current) {
      current.presenter.setRoot(root);
      current.host.panel.reveal(undefined, false);
      return current;
    }
    const host = WebviewHost.open<HostMessage, WebviewMessage>(container, LINEAGE_VIEW_TYPE, 'Lineage', pageOf(container));
    return (LineagePanel.current = new LineagePanel(container, host, root, opener));
  }

  /** Restores a panel VS Code kept across a reload (the webview saved its root). */
  static async revive(container: Container, panel: vscode.WebviewPanel, state: unknown, opener: LineageOpener): Promise<LineagePanel> {
    const root = parseRoot((state as Partial<LineageViewState> | undefined)?.root);
    if (!root) throw new Error('the lineage panel had no saved root');
    await container.store();
    LineagePanel.current?.dispose();
    const host = WebviewHost.adopt<HostMessage, WebviewMessage>(container, panel, pageOf(container));
    return (LineagePanel.current = new LineagePanel(container, host, root, opener));
  }

  private constructor(container: Container, host: WebviewHost<HostMessage, WebviewMessage>, root: LineageRef, opener: LineageOpener) {
    super();
    this.host = this._register(host);
    const store = container.openStore!;
    this.presenter = this._register(
      new LineagePresenter(store, container.workspace, root, {
        post: (message) => host.post(message),
        setTitle: (title) => (host.panel.title = title),
        open: opener,
        showError: (text) => void vscode.window.showErrorMessage(text),
        log: (level, message) => container.log[level](message),
      }),
    );
    this._register(host.onDidReceiveMessage((message) => void this.presenter.handle(message)));
    this._register(host.onDidHide(() => this.presenter.webviewHidden()));
    this._register(host.onDidDispose(() => this.dispose()));
  }

  get root(): LineageRef {
    return this.presenter.root;
  }

  get currentGraph(): LineageGraph | undefined {
    return this.presenter.currentGraph;
  }

  get lastRendered(): RenderedReport | null {
    return this.presenter.render.lastRendered;
  }

  /** Errors the webview reported (script errors, CSP violations): tests expect none. */
  get problems(): readonly string[] {
    return this.presenter.render.problems;
  }

  /** Rebuilds the graph when the change can alter it. */
  changed(change: StoreChange): void {
    if (this.presenter.affectedBy(change)) this.presenter.refresh();
  }

  waitForRendered(predicate?: (report: RenderedReport) => boolean, timeoutMs?: number): Promise<RenderedReport> {
    return this.presenter.render.waitForRendered(predicate, timeoutMs);
  }

  openNode(key: string): Promise<void> {
    return this.presenter.openNode(key);
  }

  override dispose(): void {
    if (LineagePanel.current === this) LineagePanel.current = undefined;
    super.dispose();
  }
}

function pageOf(container: Container): WebviewPage {
  return {
    html: ({ cspSource, nonce, asset }) => lineageHtml({ cspSource, nonce, scriptUri: asset('lineage.js'), styleUri: asset('lineage.css') }),
    iconPath: vscode.Uri.joinPath(container.context.extensionUri, 'media', 'runboard.svg'),
  };
}
