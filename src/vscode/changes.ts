import * as vscode from 'vscode';
import { ChangeCoalescer } from '../core/refresh.ts';
import { change, type StoreChange } from '../core/store/changes.ts';
import type { ChangeToken } from '../core/store/externalChanges.ts';
import type { Store } from '../core/store/store.ts';
import { Disposable } from './lifecycle.ts';

/** Where the database is and when it opens (the container). */
export interface StoreSource {
  readonly dbPath: string;
  databasePattern(): vscode.RelativePattern | undefined;
  readonly openStore: Store | undefined;
  readonly onDidOpenStore: vscode.Event<Store>;
}

/**
 * What changed in the database, for every view: the store's own events (writes by this window)
 * and a file watcher on the database and its WAL (writes by the CLI and other windows, which
 * share the SQLite file). Changes are coalesced by union (src/core/refresh.ts): at most a few a
 * second however fast runs write, and each names what it touched, so a view refreshes only that.
 */
export class DatabaseChanges extends Disposable {
  private readonly emitter = this._register(new vscode.EventEmitter<StoreChange>());
  readonly onDidChange = this.emitter.event;
  private readonly coalescer = this._register(new ChangeCoalescer((c) => this.emitter.fire(c)));
  private readonly source: StoreSource;
  /** What this window has seen of other processes' writes. */
  private token: ChangeToken | undefined;

  constructor(source: StoreSource) {
    super();
    this.source = source;
    const pattern = source.databasePattern();
    if (pattern) {
      const watcher = this._register(vscode.workspace.createFileSystemWatcher(pattern));
      const touched = () => this.fileChanged();
      this._register(watcher.onDidChange(touched));
      this._register(watcher.onDidCreate(touched));
      this._register(watcher.onDidDelete(touched));
    }
    const listen = (store: Store) => {
      this._register(
        store.onDidChange((event) => {
          this.announce(event);
        }),
      );
      this.token = store.changeToken();
      this.announce(change({ everything: true }));
    };
    if (source.openStore) listen(source.openStore);
    this._register(source.onDidOpenStore(listen));
  }

  /** Tells the views about a change made here that the store does not announce (coalesced like the rest). */
  announce(next: StoreChange): void {
    this.coalescer.push(next);
  }

  /**
   * Another process (the CLI, another window) wrote to the database: the store tells what, from
   * what it saw last, so only the runs, models and deployments it names are refreshed. This
   * window's own commits do not move the token, so its writes (announced above) are not counted twice.
   */
  private fileChanged(): void {
    const store = this.source.openStore;
    if (!store) {
      this.announce(change({ everything: true }));
      return;
    }
    try {
      const { token, change: external } = store.changesSince(this.token);
      this.token = token;
      this.announce(external);
    } catch {
      // A closing or broken database: the views read it again and report what they find.
      this.announce(change({ everything: true }));
    }
  }
}
