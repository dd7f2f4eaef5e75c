import type { ModelVersion } from '../registry/registry.ts';

export const DEPLOYMENT_STATUSES = ['starting', 'running', 'deployed', 'prepared', 'failed', 'stopping', 'stopped', 'stopped unexpectedly'] as const;
/**
 * running: a server this machine watches answers; deployed: handed to a system that runs it
 * (a cluster, a custom command); prepared: files written, nothing started (see `message`).
 */
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** Statuses in which something may still be serving. */
export const LIVE_STATUSES: readonly DeploymentStatus[] = ['starting', 'running', 'deployed'];

export interface Deployment {
  id: number;
  modelVersionId: number;
  model: string;
  version: number;
  target: string;
  status: DeploymentStatus;
  url: string | null;
  port: number | null;
  pid: number | null;
  /** `.runboard/deploy/<id>/`: the request log, server output, build context or manifests. */
  dir: string | null;
  config: DeploymentConfig;
  /** Why it is prepared rather than running, or what failed. */
  message: string | null;
  error: string | null;
  /** Gates that failed and were overridden with force. */
  forced: string[] | null;
  /** The deployment this one rolled back. */
  replacesId: number | null;
  createdAt: number;
  stoppedAt: number | null;
}

/** What a target records to find its deployment again (JSON in deployments.config). */
export interface DeploymentConfig {
  /** sha256 of the bearer token; the token itself is handed out once. */
  tokenSha256?: string;
  requestLog?: string;
  message?: string;
  python?: string;
  image?: string;
  container?: string;
  manifest?: string;
  namespace?: string;
  context?: string;
  command?: string[];
  stop?: string[];
  background?: boolean;
  /** The baseline size it was deployed with, carried to the deployment that replaces it. */
  baselineRows?: number;
  [key: string]: unknown;
}

export interface DeployOptions {
  /** Target name: local (default), docker, kubernetes, or a custom target from settings. */
  target?: string;
  /** 0 (default) = any free port. */
  port?: number;
  force?: boolean;
  /** Interpreter for the local server; default: the run's interpreter when recorded, else /usr/bin/python3. */
  python?: string;
  /** Image name for docker/kubernetes. */
  image?: string;
  namespace?: string;
  /** Reuse a token (e.g. on rollback, so clients keep working); default: a new random one. */
  token?: string;
  /** How long the server may take to answer /health. */
  healthTimeoutMs?: number;
  /** Without a training reference, the rows served first that become the monitoring baseline (default 500). */
  baselineRows?: number;
}

/** Everything a target needs to deploy one model version. */
export interface DeployRequest {
  id: number;
  dir: string;
  workspace: string;
  model: ModelVersion;
  /** The registry's copy, sha256 verified. */
  modelPath: string;
  port: number;
  /** The bearer token; absent when only its hash is known (a rollback keeping a token nobody here has), which only targets that check the hash are given. */
  token?: string;
  tokenSha256: string;
  options: DeployOptions;
  /** A started process ended on its own while this process was watching it. */
  onExit?(info: { code: number | null; signal: string | null }): void;
}

export interface DeployOutcome {
  status: DeploymentStatus;
  url?: string | null;
  port?: number | null;
  pid?: number | null;
  message?: string;
  error?: string;
  config?: DeploymentConfig;
}

/** One way of running a model: local process, container, cluster, custom command. */
export interface DeployTarget {
  readonly name: string;
  /** Serves knowing only the token's SHA-256 (our server, started here), so a rollback can keep a token it never saw. */
  readonly checksTokenHash?: boolean;
  /** Resolves with the outcome; failures are outcomes (status failed), not rejections. */
  deploy(request: DeployRequest): Promise<DeployOutcome>;
  stop(deployment: Deployment): Promise<void>;
  /** Whether the deployment still runs; undefined when this machine cannot tell. */
  alive(deployment: Deployment): Promise<boolean | undefined>;
}
