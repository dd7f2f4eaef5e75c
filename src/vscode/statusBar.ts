import * as vscode from 'vscode';
import { COMMANDS } from './commands/ids.ts';
import type { RunboardServices } from './host.ts';
import { affects, SETTINGS, settings } from './settings.ts';
import type { DatabaseChanges } from './views/changes.ts';

/**
 * `$(sync~spin) 2 running`: runs running anywhere on this database (this window, the CLI, other
 * windows). Hidden when none run, so it only takes space while there is something to watch;
 * clicking it focuses the Experiments view.
 */
export class RunsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('runboard.running', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private readonly services: RunboardServices;
  private running = 0;

  constructor(services: RunboardServices, changes: DatabaseChanges) {
    this.services = services;
    this.item.name = 'Runboard: running runs';
    this.item.command = COMMANDS.focusView;
    this.disposables.push(
      changes.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affects(e, SETTINGS.statusBar)) this.update();
      }),
    );
    // Off the activation path: reading the count may open the database.
    const timer = setTimeout(() => this.update(), 0);
    this.disposables.push({ dispose: () => clearTimeout(timer) });
  }

  /** The count shown (0 when hidden), for tests. */
  get count(): number {
    return this.running;
  }

  update(): void {
    try {
      const store = this.services.hasDatabase() ? this.services.openStore : undefined;
      if (!store && this.services.hasDatabase()) {
        // First read opens it; the open fires a change that comes back here.
        void this.services.store().catch((err: Error) => this.services.log.warn(`Status bar: ${err.message}`));
        return;
      }
      this.running = store ? store.countRuns({ status: 'running' }) : 0;
    } catch (err) {
      this.services.log.warn(`Status bar: ${(err as Error).message}`);
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

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
