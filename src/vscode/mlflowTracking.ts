import * as vscode from 'vscode';
import { mlflowClientEnv, MlflowLaunches, type MlflowEndpoint } from '../core/mlflow/launchEnv.ts';
import { startLaunchServer } from '../core/mlflow/launchRoutes.ts';
import type { Store } from '../core/store/store.ts';
import { Disposable, toDisposable } from './lifecycle.ts';
import { settings } from './settings.ts';
import type { Trust } from './trust.ts';

export interface MlflowTrackingHost {
  readonly trust: Trust;
  readonly log: vscode.LogOutputChannel;
  readonly environment: vscode.GlobalEnvironmentVariableCollection;
  store(): Promise<Store>;
  hasDatabase(): boolean;
}

/**
 * The window's one MLflow tracking server over the container's store, so what MLflow clients log
 * reaches the views through the store's change events. It starts on first need (a launch, Copy
 * MLflow Tracking URI), or right after activation in a trusted workspace that already has a
 * database, so new integrated terminals get MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN.
 * Never in Restricted Mode: the token in every terminal lets any script write into the workspace.
 */
export class MlflowTracking extends Disposable {
  private readonly host: MlflowTrackingHost;
  private readonly launches: MlflowLaunches;

  constructor(host: MlflowTrackingHost) {
    super();
    this.host = host;
    this.launches = this._register(
      new MlflowLaunches(async (launches) => {
        const server = await startLaunchServer(await host.store(), launches);
        host.log.info(`MLflow tracking server at ${server.url}`);
        this.giveTerminals(server);
        return server;
      }),
    );
    this._register(toDisposable(() => host.environment.clear()));
  }

  /** What launches of this window use: undefined when `runboard.mlflow.enabled` is off. */
  forLaunches(): MlflowLaunches | undefined {
    return settings.mlflowEnabled() ? this.launches : undefined;
  }

  /** The server, started now if needed; refused in Restricted Mode. */
  endpoint(): Promise<MlflowEndpoint> {
    this.host.trust.require('start the MLflow tracking server');
    return this.launches.endpoint();
  }

  /** Starts the server without waiting for a need, when the workspace already records runs. */
  startIfUsed(): void {
    if (!settings.mlflowEnabled() || !this.host.trust.trusted || !this.host.hasDatabase() || this.launches.started) return;
    // Soon, not now: activation never opens the database itself.
    const timer = setTimeout(() => {
      this.launches.endpoint().catch((err: Error) => this.host.log.warn(`The MLflow tracking server did not start: ${err.message}`));
    }, 0);
    this._register(toDisposable(() => clearTimeout(timer)));
  }

  /** `runboard.mlflow.enabled` changed: terminals get the variables, or lose them. */
  enabledChanged(): void {
    if (!settings.mlflowEnabled()) this.host.environment.clear();
    else void this.launches.started?.then((endpoint) => this.giveTerminals(endpoint), () => undefined);
    this.startIfUsed();
  }

  private giveTerminals(endpoint: MlflowEndpoint): void {
    if (!settings.mlflowEnabled()) return;
    const environment = this.host.environment;
    // The port and token live as long as this window: a restored terminal must not keep stale ones.
    environment.persistent = false;
    environment.description = new vscode.MarkdownString("Runboard: MLflow clients in this terminal log into this workspace's runs.");
    for (const [name, value] of Object.entries(mlflowClientEnv(endpoint))) environment.replace(name, value);
  }
}
