import * as vscode from 'vscode';
import type { Container } from '../container.ts';
import { Disposable } from '../lifecycle.ts';
import { makeNonce } from './html.ts';

/** What every page posts first, from each fresh webview (first load, shown again, reloaded). */
interface ReadyMessage {
  type: 'ready';
}

export interface WebviewPage {
  /** The page's HTML for a fresh webview; `asset` turns a file of dist/webview into a webview URI. */
  html(page: { cspSource: string; nonce: string; asset(file: string): string }): string;
  iconPath?: vscode.Uri;
}

/**
 * The one host of Runboard's webview panels. It sets the page (CSP `default-src 'none'`, scripts
 * by nonce only, resources only from dist/webview and media/), keeps messages until the page
 * says `ready` and sends them in order then, notices when a hidden panel drops its webview (not
 * retained: the page keeps its own state with setState and says `ready` again when shown), and
 * disposes with its panel. Features put their presenter behind it and listen to
 * `onDidReceiveMessage`, which sees `ready` too.
 */
export class WebviewHost<Out, In extends { type: string }> extends Disposable {
  readonly panel: vscode.WebviewPanel;
  private readonly log: vscode.LogOutputChannel;
  private ready = false;
  private readonly queue: Out[] = [];
  private readonly messages = this._register(new vscode.EventEmitter<In>());
  readonly onDidReceiveMessage = this.messages.event;
  private readonly hides = this._register(new vscode.EventEmitter<void>());
  /** The panel was hidden and its webview dropped: messages queue until the next `ready`. */
  readonly onDidHide = this.hides.event;
  // Not registered: it fires after everything else has been disposed.
  private readonly disposals = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposals.event;

  /** A new panel in the active column. */
  static open<Out, In extends { type: string }>(container: Container, viewType: string, title: string, page: WebviewPage): WebviewHost<Out, In> {
    const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, webviewOptions(container));
    return new WebviewHost<Out, In>(container, panel, page);
  }

  /** A panel VS Code restored after a reload (see `registerPanelSerializer`). */
  static adopt<Out, In extends { type: string }>(container: Container, panel: vscode.WebviewPanel, page: WebviewPage): WebviewHost<Out, In> {
    panel.webview.options = webviewOptions(container);
    return new WebviewHost<Out, In>(container, panel, page);
  }

  private constructor(container: Container, panel: vscode.WebviewPanel, page: WebviewPage) {
    super();
    this.panel = panel;
    this.log = container.log;
    const dist = vscode.Uri.joinPath(container.context.extensionUri, 'dist', 'webview');
    if (page.iconPath) panel.iconPath = page.iconPath;
    panel.webview.html = page.html({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      asset: (file) => panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, ...file.split('/'))).toString(),
    });
    this._register(
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isMessage(message)) return;
        if (message.type === 'ready') this.becomeReady();
        this.messages.fire(message as In);
      }),
    );
    this._register(
      panel.onDidChangeViewState(() => {
        if (panel.visible || !this.ready) return;
        this.ready = false;
        this.hides.fire();
      }),
    );
    this._register(panel.onDidDispose(() => this.dispose()));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Sends now to a ready page, else keeps it for the next `ready`. */
  post(message: Out): void {
    if (this.isDisposed) return;
    if (!this.ready) {
      this.queue.push(message);
      return;
    }
    // Resolves false when the webview is gone (hidden, not retained): the next `ready` rebuilds it.
    void this.panel.webview.postMessage(message).then(undefined, (err: unknown) => this.log.warn(`${this.panel.viewType}: post failed: ${String(err)}`));
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.panel.dispose();
    this.disposals.fire();
    this.disposals.dispose();
  }

  private becomeReady(): void {
    this.ready = true;
    for (const message of this.queue.splice(0)) this.post(message);
  }
}

/** Restores a feature's panels after a reload; a panel that cannot be restored is closed and logged. */
export function registerPanelSerializer(container: Container, viewType: string, revive: (panel: vscode.WebviewPanel, state: unknown) => Promise<unknown> | unknown): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(viewType, {
    async deserializeWebviewPanel(panel, state) {
      try {
        await revive(panel, state);
      } catch (err) {
        panel.dispose();
        container.log.warn(`${viewType}: could not restore the panel: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  });
}

function webviewOptions(container: Container): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  const root = container.context.extensionUri;
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(root, 'dist', 'webview'), vscode.Uri.joinPath(root, 'media')],
  };
}

const isMessage = (message: unknown): message is ReadyMessage | { type: string } =>
  typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string';
