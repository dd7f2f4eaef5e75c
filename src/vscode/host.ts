import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../core/errors.ts';
import { reconcileCrashed } from '../core/launch/reconcile.ts';
import { Store } from '../core/store/store.ts';
import { resolveDbPath } from '../core/workspace.ts';
import { Deployments, loadDeploySettings } from '../core/deploy/deployments.ts';
import type { Services } from './services.ts';
import { settings } from './settings.ts';

/**
 * The Services of one window: the workspace folder that holds `.runboard/`, its database, and
 * the log. The store opens on first use (never during activation) and closes with the extension.
 */
export class RunboardServices implements Services, vscode.Disposable {
  readonly context: vscode.ExtensionContext;
  readonly workspace: string;
  readonly dbPath: string;
  readonly log: vscode.LogOutputChannel;
  private opened: Store | undefined;
  private deploymentsInstance: Deployments | undefined;
  private readonly opens = new vscode.EventEmitter<Store>();
  /** Fires once, when the store has been opened. */
  readonly onDidOpenStore = this.opens.event;
  private disposed = false;

  constructor(context: vscode.ExtensionContext, log: vscode.LogOutputChannel) {
    this.context = context;
    this.log = log;
    this.workspace = pickWorkspace(vscode.workspace.workspaceFolders ?? []);
    const configured = settings.databasePath();
    this.dbPath = !this.workspace
      ? ''
      : configured
        ? resolve(this.workspace, configured)
        : // No RUNBOARD_DB from the host's environment: the window's database is the workspace's.
          resolveDbPath(undefined, this.workspace, {});
  }

  get hasWorkspace(): boolean {
    return this.workspace !== '';
  }

  /** Whether there is anything to read yet: views stay empty (showing their welcome) until a database exists. */
  hasDatabase(): boolean {
    return this.opened !== undefined || (this.hasWorkspace && existsSync(this.dbPath));
  }

  /** Throws the UserError to show when no folder is open. */
  requireWorkspace(): void {
    if (!this.hasWorkspace) throw new UserError('Open a folder first: Runboard keeps its runs in .runboard/ inside the workspace folder.');
  }

  async store(): Promise<Store> {
    if (this.opened) return this.opened;
    if (this.disposed) throw new UserError('Runboard is shutting down');
    this.requireWorkspace();
    const store = Store.open(this.dbPath);
    this.opened = store;
    this.log.info(`Opened ${this.dbPath}`);
    // Runs left active by a process that is gone are closed out, after the caller has its store.
    setTimeout(() => this.reconcile(store), 0);
    this.opens.fire(store);
    return store;
  }

  /** The store if it is already open; never opens it. */
  get openStore(): Store | undefined {
    return this.opened;
  }

  /** One Deployments per window, so the servers it starts are watched by the same object that stops them. */
  async deployments(): Promise<Deployments> {
    const store = await this.store();
    if (!this.deploymentsInstance) {
      // Targets from runboard.deployTargets add to (and override by name) those of .runboard/deploy.json.
      const file = loadDeploySettings(this.workspace);
      const targets = { ...file.targets, ...settings.deployTargets() };
      this.deploymentsInstance = new Deployments(store, { workspace: this.workspace, settings: { ...file, targets } });
    }
    return this.deploymentsInstance;
  }

  private reconcile(store: Store): void {
    if (this.opened !== store || !store.db.open) return;
    try {
      for (const run of reconcileCrashed(store)) this.log.warn(`Run ${run.id} (${run.name}) had crashed: ${run.error}`);
    } catch (err) {
      this.log.error('Crash reconciliation failed', err as Error);
    }
  }

  /** The glob of the database and its journal files, for a file watcher. */
  databasePattern(): vscode.RelativePattern | undefined {
    if (!this.hasWorkspace) return undefined;
    return new vscode.RelativePattern(vscode.Uri.file(dirname(this.dbPath)), `${basename(this.dbPath)}*`);
  }

  dispose(): void {
    this.disposed = true;
    this.opens.dispose();
    try {
      this.opened?.close();
    } catch (err) {
      this.log.error('Closing the database failed', err as Error);
    }
    this.opened = undefined;
  }
}

/** The folder holding `.runboard/` (profiles or database), else the first folder; '' without one. */
function pickWorkspace(folders: readonly vscode.WorkspaceFolder[]): string {
  const local = folders.filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  return local.find((dir) => existsSync(join(dir, '.runboard'))) ?? local[0] ?? '';
}

/** A path inside the workspace is shown relative to it. */
export function displayPath(workspace: string, path: string): string {
  if (!workspace || !isAbsolute(path)) return path;
  const prefix = workspace.endsWith('/') ? workspace : `${workspace}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
