import * as vscode from 'vscode';
import type { StoreChange } from '../core/store/changes.ts';
import type { RunboardServices } from '../host.ts';

/** At most one refresh per this many ms, however fast runs write. */
export const REFRESH_INTERVAL_MS = 300;

/**
 * One "the database changed" signal for every view, from two sources: the store's own events
 * (writes by this window) and a file watcher on the database and its WAL (writes by the CLI and
 * other windows, which share the SQLite file). Bursts are coalesced: the first change refreshes
 * at once, later ones within the interval give one trailing refresh, so a run logging thousands
 * of points a second never floods the views.
 */
export class DatabaseChanges implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private disposed = false;

  constructor(services: RunboardServices) {
    this.disposables.push(this.emitter);
    const pattern = services.databasePattern();
    if (pattern) {
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      this.disposables.push(watcher, watcher.onDidChange(() => this.trigger()), watcher.onDidCreate(() => this.trigger()), watcher.onDidDelete(() => this.trigger()));
    }
    const listen = (store: { onDidChange: (listener: (change: StoreChange) => void) => { dispose(): void } }) => {
      this.disposables.push(store.onDidChange(() => this.trigger()));
      this.trigger();
    };
    if (services.openStore) listen(services.openStore);
    this.disposables.push(services.onDidOpenStore(listen));
  }

  /** Asks for a refresh (coalesced). */
  trigger(): void {
    if (this.disposed) return;
    if (this.timer) {
      this.pending = true;
      return;
    }
    this.emitter.fire();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending) {
        this.pending = false;
        this.trigger();
      }
    }, REFRESH_INTERVAL_MS);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
