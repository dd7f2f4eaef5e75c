import type { Disposable } from '../events.ts';

/** Where an MLflow client logs into Runboard: a server of this process, bound to 127.0.0.1. */
export interface MlflowEndpoint {
  readonly url: string;
  readonly token: string;
}

/** What a started server gives back; see startMlflowServer. */
export interface MlflowServerLike extends MlflowEndpoint {
  close(): Promise<void>;
}

/** The variables the MLflow client reads; a launch sets them all, or (opted out) none. */
export const MLFLOW_ENV = {
  uri: 'MLFLOW_TRACKING_URI',
  token: 'MLFLOW_TRACKING_TOKEN',
  runId: 'MLFLOW_RUN_ID',
  experimentId: 'MLFLOW_EXPERIMENT_ID',
} as const;

/**
 * Credentials the client would send instead of the token (a username and password make it use Basic
 * auth), meant for the user's own server: a launch pointed at Runboard goes without them.
 */
export const OTHER_SERVER_AUTH = ['MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_AUTH', 'MLFLOW_TRACKING_AWS_SIGV4'] as const;

/** For a shell of the user's (an editor terminal): logs into the workspace, new runs as MLflow makes them. */
export function mlflowClientEnv(endpoint: MlflowEndpoint): Record<string, string> {
  return { [MLFLOW_ENV.uri]: endpoint.url, [MLFLOW_ENV.token]: endpoint.token };
}

/** For a launched run: `mlflow.start_run()` resumes this run instead of creating a second one. */
export function mlflowRunEnv(endpoint: MlflowEndpoint, run: { mlflowId: string; mlflowExperimentId: string }): Record<string, string> {
  return { ...mlflowClientEnv(endpoint), [MLFLOW_ENV.runId]: run.mlflowId, [MLFLOW_ENV.experimentId]: run.mlflowExperimentId };
}

/** One `export` line for a POSIX shell, each value single-quoted. */
export function exportLine(env: Record<string, string>): string {
  return `export ${Object.entries(env)
    .map(([name, value]) => `${name}='${value.replaceAll("'", `'\\''`)}'`)
    .join(' ')}`;
}

/** A live capture giving up metric keys to MLflow: see RunCapture.yieldToMlflow. */
export type YieldKeys = <T>(keys: readonly string[], write: () => T) => T;

/**
 * The MLflow side of launches in one process (the CLI, or the editor's window): the server,
 * started on first need and shared by every launch (a sweep's children), and the captures of live
 * runs, told which metric keys MLflow writes so they stop reading those from the console.
 */
export class MlflowLaunches implements Disposable {
  private readonly startServer: (launches: MlflowLaunches) => Promise<MlflowServerLike>;
  private server: Promise<MlflowServerLike> | undefined;
  private readonly captures = new Map<number, YieldKeys>();
  private closed = false;

  constructor(startServer: (launches: MlflowLaunches) => Promise<MlflowServerLike>) {
    this.startServer = startServer;
  }

  /** The server, started now if no launch needed it yet. */
  endpoint(): Promise<MlflowEndpoint> {
    if (this.closed) return Promise.reject(new Error('the MLflow server of this process is closed'));
    if (this.server) return this.server;
    const starting = this.startServer(this);
    this.server = starting;
    // A failed start is not remembered: the next launch tries again.
    starting.catch(() => {
      if (this.server === starting) this.server = undefined;
    });
    return starting;
  }

  /** The server if one was started; never starts it. */
  get started(): Promise<MlflowEndpoint> | undefined {
    return this.server;
  }

  /** While a run's capture is live, it gives up the keys MLflow logs for the run (see mlflowWrites). */
  watchRun(runId: number, yieldKeys: YieldKeys): Disposable {
    this.captures.set(runId, yieldKeys);
    return {
      dispose: () => {
        if (this.captures.get(runId) === yieldKeys) this.captures.delete(runId);
      },
    };
  }

  /** The server stores MLflow's points of these keys with `write` (synchronous), after the run's live capture gave them up. */
  mlflowWrites<T>(runId: number, keys: readonly string[], write: () => T): T {
    const yieldKeys = this.captures.get(runId);
    return yieldKeys ? yieldKeys(keys, write) : write();
  }

  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = undefined;
    if (server) await server.then((s) => s.close(), () => undefined);
  }

  dispose(): void {
    void this.close();
  }
}
