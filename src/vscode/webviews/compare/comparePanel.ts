import * as vscode from 'vscode';
import { CompareSession } from '../../../core/compare/session.ts';
import type { Store } from '../../../core/store/store.ts';
import type { RenderedReport, ViewState, WebviewMessage } from '../../../shared/compareProtocol.ts';
import type { Container } from '../../container.ts';
import { makeNonce } from '../html.ts';
import { compareHtml } from './html.ts';

/**
 * The Compare panel: one per window, revealed with a new selection when already open. The webview
 * is not retained while hidden; it reloads from its saved view state and the host rebuilds its
 * data (the session queues notices meanwhile). All data work is in CompareSession (src/core).
 */
export class ComparePanel implements vscode.Disposable {
  static readonly viewType = 'runboard.compare';
  /** The open panel, if any (integration tests: `await ComparePanel.current?.waitForRendered()`). */
  static current: ComparePanel | undefined;

  readonly panel: vscode.WebviewPanel;
  private readonly session: CompareSession;
  private readonly container: Container;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  /** Opens the panel on these runs, or shows them in the open one. */
  static async show(container: Container, runIds: readonly number[]): Promise<ComparePanel> {
    const store = await container.store();
    const current = ComparePanel.current;
    if (current && !current.disposed) {
      current.setRuns(runIds);
      current.panel.reveal(undefined, false);
      return current;
    }
    const panel = vscode.window.createWebviewPanel(ComparePanel.viewType, title(store, runIds), vscode.ViewColumn.Active, webviewOptions(container));
    return (ComparePanel.current = new ComparePanel(panel, container, store, runIds));
  }

  /** Restores a panel VS Code kept across a reload (see registerCompare's serializer). */
  static async revive(panel: vscode.WebviewPanel, container: Container, state: unknown): Promise<ComparePanel> {
    const view = state && typeof state === 'object' ? (state as Partial<ViewState>) : {};
    const runIds = Array.isArray(view.runs) ? view.runs.filter((id): id is number => Number.isSafeInteger(id)) : [];
    const store = await container.store();
    panel.webview.options = webviewOptions(container);
    ComparePanel.current?.dispose();
    return (ComparePanel.current = new ComparePanel(panel, container, store, runIds));
  }

  private constructor(panel: vscode.WebviewPanel, container: Container, store: Store, runIds: readonly number[]) {
    this.panel = panel;
    this.container = container;
    this.session = new CompareSession(store, runIds, {
      post: (message) => {
        // Resolves false when the webview is gone (hidden, not retained): the next `ready` rebuilds it.
        void panel.webview.postMessage(message).then(undefined, (err: unknown) => container.log.warn(`Compare: post failed: ${String(err)}`));
      },
      save: (file) => this.save(file),
      showCodeDiff: async (a, b) => {
        await vscode.commands.executeCommand('runboard.showCodeDiff', a, b);
      },
      log: (level, message) => container.log[level](message),
    });
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (message && typeof message === 'object' && typeof (message as { type?: unknown }).type === 'string') void this.session.handle(message as WebviewMessage);
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.session.webviewHidden();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** The runs shown, in order. */
  get runIds(): number[] {
    return this.session.shownRunIds;
  }

  /** The last report the webview posted after drawing (null before the first). */
  get lastRendered(): RenderedReport | null {
    return this.session.lastRendered;
  }

  /** Resolves with the last `rendered` report that matches, or the next one. */
  waitForRendered(predicate?: (report: RenderedReport) => boolean, timeoutMs?: number): Promise<RenderedReport> {
    return this.session.waitForRendered(predicate, timeoutMs);
  }

  /** Highlights a run in the panel (e.g. selected in a tree). */
  highlight(runId: number | null): void {
    this.session.highlight(runId);
  }

  setRuns(runIds: readonly number[]): void {
    this.session.setRuns(runIds);
    void this.container.store().then((store) => (this.panel.title = title(store, runIds)));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (ComparePanel.current === this) ComparePanel.current = undefined;
    this.session.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private html(): string {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.container.context.extensionUri, 'dist', 'webview');
    return compareHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'compare.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'compare.css')).toString(),
      codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'codicons', 'codicon.css')).toString(),
    });
  }

  private async save(file: { suggestedName: string; data: Uint8Array; kind: 'csv' | 'png' }): Promise<string | undefined> {
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(vscode.Uri.file(this.container.workspace), file.suggestedName),
      filters: file.kind === 'csv' ? { CSV: ['csv'] } : { 'PNG image': ['png'] },
      title: file.kind === 'csv' ? 'Export CSV' : 'Save chart as PNG',
    });
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, file.data);
    void vscode.window.showInformationMessage(`Saved ${vscode.workspace.asRelativePath(uri)}`, 'Open').then((choice) => {
      if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', uri);
    });
    return uri.fsPath;
  }
}

function webviewOptions(container: Container): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  const root = container.context.extensionUri;
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(root, 'dist', 'webview'), vscode.Uri.joinPath(root, 'media')],
  };
}

function title(store: Store, runIds: readonly number[]): string {
  const names = runIds.slice(0, 3).map((id) => store.run(id)?.name ?? `#${id}`);
  if (runIds.length === 0) return 'Compare runs';
  if (runIds.length <= 3) return `Compare: ${names.join(', ')}`;
  return `Compare ${runIds.length} runs`;
}
