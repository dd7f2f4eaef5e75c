import * as vscode from 'vscode';
import type { StoreChange } from '../../../core/store/changes.ts';
import { DEFAULT_VIEW, type HostMessage, type RenderedReport, type TableAction, type TableRun, type TableView, type WebviewMessage } from '../../../shared/runsTableProtocol.ts';
import { COMMANDS } from '../../commandIds.ts';
import type { Container } from '../../container.ts';
import { Disposable } from '../../lifecycle.ts';
import { revealRun } from '../../views/reveal.ts';
import type { Views } from '../../views/views.ts';
import { WebviewHost, type WebviewPage } from '../host.ts';
import { runsTableHtml } from './html.ts';
import { RunsTablePresenter } from './presenter.ts';

export const RUNS_TABLE_VIEW_TYPE = 'runboard.runsTable';

/** Where the table's arrangement (columns, sort, filter, grouping) is kept for the workspace. */
const VIEW_STATE_KEY = 'runboard.runsTable.view';

const page: WebviewPage = {
  html: ({ cspSource, nonce, asset }) =>
    runsTableHtml({ cspSource, nonce, scriptUri: asset('runsTable.js'), styleUri: asset('runsTable.css'), codiconsUri: asset('codicons/codicon.css') }),
};

/**
 * The Runs Table: one per window, revealed when already open. The webview host does the page, the
 * handshake and the lifetime; RunsTablePresenter (no vscode) reads and sends the rows; this class
 * connects them and runs the existing commands on the selected runs.
 */
export class RunsTablePanel extends Disposable {
  /** The open panel, if any (integration tests: `api.testing.runsTablePanel()?.waitForRendered()`). */
  static current: RunsTablePanel | undefined;

  private readonly host: WebviewHost<HostMessage, WebviewMessage>;
  private readonly presenter: RunsTablePresenter;

  static async show(container: Container, views: Views): Promise<RunsTablePanel> {
    await container.store();
    const current = RunsTablePanel.current;
    if (current) {
      current.host.panel.reveal(undefined, false);
      return current;
    }
    const host = WebviewHost.open<HostMessage, WebviewMessage>(container, RUNS_TABLE_VIEW_TYPE, 'Runs', page);
    return (RunsTablePanel.current = new RunsTablePanel(container, views, host));
  }

  /** Restores the panel after a reload; its arrangement comes back from the workspace state. */
  static async revive(container: Container, views: Views, panel: vscode.WebviewPanel): Promise<RunsTablePanel> {
    await container.store();
    RunsTablePanel.current?.dispose();
    const host = WebviewHost.adopt<HostMessage, WebviewMessage>(container, panel, page);
    return (RunsTablePanel.current = new RunsTablePanel(container, views, host));
  }

  private constructor(container: Container, views: Views, host: WebviewHost<HostMessage, WebviewMessage>) {
    super();
    this.host = this._register(host);
    const state = container.context.workspaceState;
    this.presenter = this._register(
      new RunsTablePresenter(container.openStore!, {
        post: (message) => host.post(message),
        execute: (action, runs) => execute(action, runs),
        open: (runId) => revealRun(container, views, runId),
        loadView: () => {
          const saved = state.get<Partial<TableView>>(VIEW_STATE_KEY);
          return saved && typeof saved === 'object' ? { ...DEFAULT_VIEW, ...saved } : undefined;
        },
        saveView: (view) => void state.update(VIEW_STATE_KEY, view),
        showError: (text) => void vscode.window.showErrorMessage(text),
        log: (level, message) => container.log[level](message),
      }),
    );
    this._register(host.onDidReceiveMessage((message) => void this.presenter.handle(message)));
    this._register(host.onDidHide(() => this.presenter.webviewHidden()));
    this._register(host.onDidDispose(() => this.dispose()));
  }

  get lastRendered(): RenderedReport | null {
    return this.presenter.render.lastRendered;
  }

  /** Errors the webview reported (script errors, CSP violations): tests expect none. */
  get problems(): readonly string[] {
    return this.presenter.render.problems;
  }

  waitForRendered(predicate?: (report: RenderedReport) => boolean, timeoutMs?: number): Promise<RenderedReport> {
    return this.presenter.render.waitForRendered(predicate, timeoutMs);
  }

  /** What the page posts for a toolbar button, for tests. */
  act(action: TableAction, runIds: number[]): Promise<void> {
    return this.presenter.handle({ type: 'action', action, runIds });
  }

  changed(change: StoreChange): void {
    this.presenter.changed(change);
  }

  override dispose(): void {
    if (RunsTablePanel.current === this) RunsTablePanel.current = undefined;
    super.dispose();
  }
}

/** The existing commands, with the argument shapes they take (src/vscode/commands/shared/runArgs.ts). */
async function execute(action: TableAction, runs: readonly TableRun[]): Promise<void> {
  const ids = runs.map((r) => r.id);
  switch (action) {
    case 'compare':
      await vscode.commands.executeCommand(COMMANDS.compareRuns, ids);
      return;
    case 'diff':
      await vscode.commands.executeCommand(COMMANDS.showCodeDiff, ids);
      return;
    case 'stop':
      await vscode.commands.executeCommand(COMMANDS.stopRun, ids);
      return;
    case 'rerun':
      // Re-run takes one run: each selected one is launched again.
      for (const id of ids) await vscode.commands.executeCommand(COMMANDS.rerun, id);
      return;
    case 'delete':
      await vscode.commands.executeCommand(COMMANDS.deleteRun, ids);
      return;
    case 'registerModel': {
      const run = runs[0];
      if (run) await vscode.commands.executeCommand(COMMANDS.registerModel, { runId: run.id, ...(run.model ? { artifact: run.model } : {}) });
      return;
    }
    case 'copyIds':
      await vscode.commands.executeCommand(COMMANDS.copyRunId, ids);
      return;
    default: {
      const never: never = action;
      throw new Error(`unknown action ${String(never)}`);
    }
  }
}
