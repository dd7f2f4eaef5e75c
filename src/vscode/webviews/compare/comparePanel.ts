import * as vscode from 'vscode';
import { join } from 'node:path';
import { exportFolder } from '../../../core/compare/exportFolder.ts';
import { CompareSession } from '../../../core/compare/session.ts';
import type { Store } from '../../../core/store/store.ts';
import type { HostMessage, RenderedReport, ViewState, WebviewMessage } from '../../../shared/compareProtocol.ts';
import { COMMANDS } from '../../commandIds.ts';
import type { Container } from '../../container.ts';
import { Disposable } from '../../lifecycle.ts';
import { WebviewHost, type WebviewPage } from '../host.ts';
import { compareHtml } from './html.ts';

export const COMPARE_VIEW_TYPE = 'runboard.compare';

const page: WebviewPage = {
  html: ({ cspSource, nonce, asset }) =>
    compareHtml({ cspSource, nonce, scriptUri: asset('compare.js'), styleUri: asset('compare.css'), codiconsUri: asset('codicons/codicon.css') }),
};

/**
 * The Compare panel: one per window, revealed with a new selection when already open. The
 * webview host does the page, the handshake and the lifetime; all data work is in CompareSession
 * (src/core), this class only connects the two and does what needs VS Code (save dialogs).
 */
export class ComparePanel extends Disposable {
  /** The open panel, if any (integration tests: `await ComparePanel.current?.waitForRendered()`). */
  static current: ComparePanel | undefined;

  private readonly host: WebviewHost<HostMessage, WebviewMessage>;
  private readonly session: CompareSession;
  private readonly container: Container;

  /** Opens the panel on these runs, or shows them in the open one. */
  static async show(container: Container, runIds: readonly number[]): Promise<ComparePanel> {
    const store = await container.store();
    const current = ComparePanel.current;
    if (current) {
      current.setRuns(runIds);
      current.host.panel.reveal(undefined, false);
      return current;
    }
    const host = WebviewHost.open<HostMessage, WebviewMessage>(container, COMPARE_VIEW_TYPE, title(store, runIds), page);
    return (ComparePanel.current = new ComparePanel(container, host, store, runIds));
  }

  /** Restores a panel VS Code kept across a reload: the webview saved its runs in its view state. */
  static async revive(container: Container, panel: vscode.WebviewPanel, state: unknown): Promise<ComparePanel> {
    const view = state && typeof state === 'object' ? (state as Partial<ViewState>) : {};
    const runIds = Array.isArray(view.runs) ? view.runs.filter((id): id is number => Number.isSafeInteger(id)) : [];
    const store = await container.store();
    ComparePanel.current?.dispose();
    const host = WebviewHost.adopt<HostMessage, WebviewMessage>(container, panel, page);
    return (ComparePanel.current = new ComparePanel(container, host, store, runIds));
  }

  private constructor(container: Container, host: WebviewHost<HostMessage, WebviewMessage>, store: Store, runIds: readonly number[]) {
    super();
    this.container = container;
    this.host = this._register(host);
    this.session = this._register(
      new CompareSession(store, runIds, {
        post: (message) => host.post(message),
        save: (file) => this.save(file),
        showCodeDiff: async (a, b) => {
          await vscode.commands.executeCommand(COMMANDS.showCodeDiff, a, b);
        },
        log: (level, message) => container.log[level](message),
      }, { workspace: container.workspace }),
    );
    this._register(host.onDidReceiveMessage((message) => void this.session.handle(message)));
    this._register(host.onDidHide(() => this.session.webviewHidden()));
    this._register(host.onDidDispose(() => this.dispose()));
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
    void this.container.store().then((store) => (this.host.panel.title = title(store, runIds)));
  }

  override dispose(): void {
    if (ComparePanel.current === this) ComparePanel.current = undefined;
    super.dispose();
  }

  private async save(file: { suggestedName: string; data: Uint8Array; kind: 'csv' | 'png' }): Promise<string | undefined> {
    const uri = await vscode.window.showSaveDialog({
      defaultUri: this.container.workspace
        ? vscode.Uri.file(join(exportFolder(this.container.workspace), file.suggestedName))
        : vscode.Uri.file(file.suggestedName),
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

function title(store: Store, runIds: readonly number[]): string {
  const names = runIds.slice(0, 3).map((id) => store.run(id)?.name ?? `#${id}`);
  if (runIds.length === 0) return 'Compare runs';
  if (runIds.length <= 3) return `Compare: ${names.join(', ')}`;
  return `Compare ${runIds.length} runs`;
}
