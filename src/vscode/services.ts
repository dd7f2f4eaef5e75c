import type * as vscode from 'vscode';
import type { Store } from '../core/store/store.ts';

/**
 * What the VS Code face shares between commands, views and webviews. Built once in activate();
 * the database opens lazily so activation never waits on it.
 */
export interface Services {
  readonly context: vscode.ExtensionContext;
  /** The workspace folder that holds `.runboard/`. */
  readonly workspace: string;
  readonly dbPath: string;
  /** The store, opened (and crash-reconciled) on first use; rejects with a UserError to show. */
  store(): Promise<Store>;
  /** Output channel for Runboard's own log lines. */
  readonly log: vscode.LogOutputChannel;
}
