import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { ChangeCoalescer, fromStoreEvent } from '../core/refresh.ts';
import { change, type StoreChange } from '../core/store/changes.ts';
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
  /** The database files as this window's last write left them. */
  private ownStamp = '';

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
          // The store may announce a write inside its transaction: the files are final once it has committed.
          queueMicrotask(() => (this.ownStamp = this.stamp()));
          this.announce(fromStoreEvent(event));
        }),
      );
      this.announce(change({ everything: true }));
    };
    if (source.openStore) listen(source.openStore);
    this._register(source.onDidOpenStore(listen));
  }

  /** Tells the views about a change made here that the store does not announce (coalesced like the rest). */
  announce(next: StoreChange): void {
    this.coalescer.push(next);
  }

  // ── Until the store offers changesSince(token) (store branch of issue 9): delete after that merge. ──
  /**
   * The watcher also sees this window's own writes, which the store has announced precisely: a
   * file left as this window's last write left it changed nothing new. Anything else was written
   * by another process and cannot be narrowed yet.
   */
  private fileChanged(): void {
    const now = this.stamp();
    if (now === this.ownStamp) return;
    this.ownStamp = now;
    this.announce(change({ everything: true }));
  }

  /** Size and modification time of the database and its WAL. */
  private stamp(): string {
    return [this.source.dbPath, `${this.source.dbPath}-wal`]
      .map((file) => {
        try {
          const s = statSync(file);
          return `${s.size}:${s.mtimeMs}`;
        } catch {
          return '-';
        }
      })
      .join('|');
  }
}
