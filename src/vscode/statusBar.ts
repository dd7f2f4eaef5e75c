import * as vscode from 'vscode';
import { COMMANDS } from './commandIds.ts';
import type { Container } from './container.ts';
import { affects, SETTINGS, settings } from './settings.ts';
import { Disposable, toDisposable } from './lifecycle.ts';

/**
 * `$(sync~spin) 2 running`: runs running anywhere on this database (this window, the CLI, other
 * windows). Hidden when none run, so it only takes space while there is something to watch;
 * clicking it focuses the Experiments view.
 */
export class RunsStatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('runboard.running', vscode.StatusBarAlignment.Left, 10));
  private readonly container: Container;
  private running = 0;

  constructor(container: Container) {
    super();
    this.container = container;
    this.item.name = 'Runboard: running runs';
    this.item.command = COMMANDS.focusView;
    this._register(container.changes.onDidChange((change) => {
        if (change.everything || change.runs.length > 0 || change.deletedRuns.length > 0) this.update();
      }));
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affects(e, SETTINGS.statusBar)) this.update();
      }),
    );
    // Off the activation path: reading the count may open the database.
    const timer = setTimeout(() => this.update(), 0);
    this._register(toDisposable(() => clearTimeout(timer)));
  }

  /** The count shown (0 when hidden), for tests. */
  get count(): number {
    return this.running;
  }

  update(): void {
    try {
      const store = this.container.hasDatabase() ? this.container.openStore : undefined;
      if (!store && this.container.hasDatabase()) {
        // First read opens it; the open fires a change that comes back here.
        void this.container.store().catch((err: Error) => this.container.log.warn(`Status bar: ${err.message}`));
        return;
      }
      this.running = store ? store.countRuns({ status: 'running' }) : 0;
    } catch (err) {
      this.container.log.warn(`Status bar: ${(err as Error).message}`);
      this.running = 0;
    }
    if (this.running === 0 || !settings.statusBar()) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync~spin) ${this.running} running`;
    this.item.tooltip = `Runboard: ${this.running} run${this.running === 1 ? '' : 's'} running. Click to show them.`;
    this.item.accessibilityInformation = { label: `Runboard: ${this.running} runs running` };
    this.item.show();
  }

}
