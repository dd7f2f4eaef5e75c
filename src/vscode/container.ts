import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { Deployments, loadDeploySettings, type DeploySettings } from '../core/deploy/deployments.ts';
import { UserError } from '../core/errors.ts';
import { reconcile } from '../core/launch/reconcile.ts';
import { Registry } from '../core/registry/registry.ts';
import { Store } from '../core/store/store.ts';
import { resolveDbPath } from '../core/workspace.ts';
import { ActiveRuns } from './activeRuns.ts';
import { DatabaseChanges } from './changes.ts';
import { Disposable, toDisposable } from './lifecycle.ts';
import { MlflowTracking } from './mlflowTracking.ts';
import { Reporter } from './reporter.ts';
import { settings } from './settings.ts';
import { Trust } from './trust.ts';

/**
 * The one composition root of the VS Code face, created once in activate() and handed to
 * commands, views and webviews: the workspace and its database (opened on first use, never
 * during activation), the one Registry and the one Deployments of this window, the change
 * events, the reporter, Workspace Trust, the runs this window launched, and the log. Nobody else
 * constructs these. It owns what it is given to own and disposes it last-registered first, so
 * views and commands go before the database and the log.
 */
export class Container extends Disposable {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  /** The workspace folder that holds `.runboard/`; '' without a folder. */
  readonly workspace: string;
  readonly dbPath: string;
  readonly trust = new Trust();
  readonly reporter: Reporter;
  /** Runs and sweeps launched by this window, with their terminals. */
  readonly runs: ActiveRuns;
  /** What changed in the database, coalesced for the views. */
  readonly changes: DatabaseChanges;
  /** The window's MLflow tracking server, for launches and integrated terminals. */
  readonly mlflow: MlflowTracking;
  private opened: Store | undefined;
  private registryInstance: Registry | undefined;
  private deploymentsInstance: Deployments | undefined;
  /** Why `.runboard/deploy.json` or `runboard.deployTargets` could not be used, if so. */
  private readonly opens: vscode.EventEmitter<Store>;
  /** Fires once, when the store has been opened. */
  readonly onDidOpenStore: vscode.Event<Store>;

  constructor(context: vscode.ExtensionContext) {
    super();
    this.context = context;
    this.log = this._register(vscode.window.createOutputChannel('Runboard', { log: true }));
    this._register(toDisposable(() => this.closeStore()));
    this.opens = this._register(new vscode.EventEmitter<Store>());
    this.onDidOpenStore = this.opens.event;
    this.workspace = pickWorkspace(vscode.workspace.workspaceFolders ?? []);
    const configured = settings.databasePath();
    this.dbPath = !this.workspace
      ? ''
      : configured
        ? resolve(this.workspace, configured)
        : // No RUNBOARD_DB from the host's environment: the window's database is the workspace's.
          resolveDbPath(undefined, this.workspace, {});
    this.reporter = this._register(new Reporter(this.log));
    this.runs = this._register(new ActiveRuns());
    this.changes = this._register(new DatabaseChanges(this));
    // Registered after the store's closing, so the server stops before the database closes.
    this.mlflow = this._register(
      new MlflowTracking({
        trust: this.trust,
        log: this.log,
        environment: context.environmentVariableCollection,
        store: () => this.store(),
        hasDatabase: () => this.hasDatabase(),
      }),
    );
  }

  /** Hands a disposable to the container: it is disposed with it (at once when it already is). */
  own<T extends vscode.Disposable>(value: T): T {
    return this._register(value);
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

  /** The store, opened (and crash-reconciled) on first use; rejects with a UserError to show. */
  async store(): Promise<Store> {
    if (this.opened) return this.opened;
    if (this.isDisposed) throw new UserError('Runboard is shutting down');
    this.requireWorkspace();
    const store = Store.open(this.dbPath);
    this.opened = store;
    this.log.info(`Opened ${this.dbPath}`);
    // Runs left active by a process that is gone are closed out, after the caller has its store.
    setTimeout(() => void this.reconcile(store), 0);
    this.opens.fire(store);
    return store;
  }

  /** The store if it is already open; never opens it. */
  get openStore(): Store | undefined {
    return this.opened;
  }

  /** The one Registry of this window. */
  async registry(): Promise<Registry> {
    const store = await this.store();
    return (this.registryInstance ??= new Registry(store, this.workspace));
  }

  /**
   * The one Deployments of this window, so the servers it starts are watched by the object that
   * stops them. Its targets are read again on each call, so a `.runboard/deploy.json` (or
   * `runboard.deployTargets`) fixed since the last attempt works without a reload; broken ones
   * reject with their problem: deploying needs them.
   */
  async deployments(): Promise<Deployments> {
    const deployments = await this.deploymentRecords();
    deployments.configure(this.deploySettings());
    return deployments;
  }

  /**
   * The same Deployments for listing and reading records, which needs no targets: a broken
   * deploy.json must not hide the list.
   */
  async deploymentRecords(): Promise<Deployments> {
    const store = await this.store();
    if (this.deploymentsInstance) return this.deploymentsInstance;
    const deployments = new Deployments(store, { workspace: this.workspace, settings: {} });
    try {
      deployments.configure(this.deploySettings());
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      this.log.warn(`Deploy targets: ${err.message}`);
    }
    this.deploymentsInstance = deployments;
    return deployments;
  }

  /** Targets from runboard.deployTargets add to (and override by name) those of .runboard/deploy.json. */
  private deploySettings(): DeploySettings {
    const file = loadDeploySettings(this.workspace);
    return { ...file, targets: { ...file.targets, ...settings.deployTargets() } };
  }

  /** The glob of the database and its journal files, for a file watcher. */
  databasePattern(): vscode.RelativePattern | undefined {
    if (!this.hasWorkspace) return undefined;
    return new vscode.RelativePattern(vscode.Uri.file(dirname(this.dbPath)), `${basename(this.dbPath)}*`);
  }

  /**
   * Runs whose recorder died (a killed CLI, a closed window) are ended: an orphaned training
   * process is stopped, and every source is re-read from its checkpoint so no logged point is lost.
   */
  private async reconcile(store: Store): Promise<void> {
    if (this.opened !== store || !store.db.open) return;
    try {
      const { ended, problems } = await reconcile(store);
      for (const run of ended) this.log.warn(`Run ${run.id} (${run.name}) ended as ${run.status}: ${run.error}`);
      for (const problem of problems) this.log.warn(problem);
    } catch (err) {
      this.log.error('Crash reconciliation failed', err as Error);
    }
  }

  private closeStore(): void {
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
