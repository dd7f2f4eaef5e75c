import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ensureRealDir } from '../io/safePaths.ts';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { parseGate } from '../gates.ts';
import { checkGates, enforceGates, Registry, type GateCheck, type ModelVersion } from '../registry/registry.ts';
import type { DeploymentRecord } from '../store/deployments.ts';
import type { Store } from '../store/store.ts';
import { dataDirOf, workspaceOf } from '../workspace.ts';
import { customTarget, validateCustomTarget } from './custom.ts';
import { dockerTarget } from './docker.ts';
import { kubernetesTarget } from './kubernetes.ts';
import { localTarget } from './local.ts';
import { requestStats, type RequestStats } from '../monitor/requestLog.ts';
import { LIVE_STATUSES, type DeployOptions, type DeployTarget, type Deployment, type DeploymentConfig, type DeploymentStatus } from './types.ts';

/** `.runboard/deploy.json`: the local interpreter and custom targets (the editor passes its settings instead). */
export interface DeploySettings {
  python?: string;
  healthTimeoutMs?: number;
  targets?: Record<string, unknown>;
}

export const DEPLOY_SETTINGS_FILE = join('.runboard', 'deploy.json');

export function loadDeploySettings(workspace: string): DeploySettings {
  const file = join(workspace, DEPLOY_SETTINGS_FILE);
  if (!existsSync(file)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UserError(`${file} must hold an object like { "targets": { "name": { "command": [...] } } }`);
  const s = data as Record<string, unknown>;
  if (s.python !== undefined && typeof s.python !== 'string') throw new UserError(`${file}: "python" must be a path`);
  if (s.targets !== undefined && (typeof s.targets !== 'object' || s.targets === null)) throw new UserError(`${file}: "targets" must map names to targets`);
  return s as DeploySettings;
}

export interface DeploymentsOptions {
  workspace?: string;
  /** Default: read from `.runboard/deploy.json`. */
  settings?: DeploySettings;
  /** Extra or replacement targets (by name). */
  targets?: DeployTarget[];
}

export interface DeployResult {
  deployment: Deployment;
  /** The bearer token: returned here once, stored only as a hash. */
  token: string;
  /** Milliseconds from the call to the final status (healthy, prepared or failed). */
  elapsedMs: number;
}

/** A rollback with `keepToken` may keep serving a token nobody here knows: then `token` is null. */
export type RollbackResult = Omit<DeployResult, 'token'> & { token: string | null };

type RollbackOptions = Pick<DeployOptions, 'force' | 'token' | 'healthTimeoutMs' | 'python' | 'baselineRows'>;

/** The token a deployment serves with; without `token`, the hash of one that only its clients have. */
interface Credentials {
  token?: string;
  tokenSha256: string;
}

function issue(token = randomBytes(32).toString('base64url')): Required<Credentials> {
  return { token, tokenSha256: createHash('sha256').update(token).digest('hex') };
}

interface Plan {
  model: ModelVersion;
  modelPath: string;
  target: DeployTarget;
  forced: string[] | null;
  options: DeployOptions;
}

const BUILTIN = ['local', 'docker', 'kubernetes'];

/** Deploys registered model versions to targets, and keeps their records in step with reality. */
export class Deployments {
  readonly store: Store;
  readonly registry: Registry;
  readonly workspace: string;
  private targets = new Map<string, DeployTarget>();
  /** Targets given by the caller rather than by settings (kept when the settings change). */
  private readonly givenTargets: readonly DeployTarget[];
  /** Deployments this process is stopping, so their exit is not taken for a crash. */
  private readonly stopping = new Set<number>();

  constructor(store: Store, options: DeploymentsOptions = {}) {
    this.store = store;
    this.workspace = options.workspace ?? workspaceOf(store.file);
    this.registry = new Registry(store, this.workspace);
    this.givenTargets = options.targets ?? [];
    this.configure(options.settings ?? loadDeploySettings(this.workspace));
  }

  /**
   * Takes the targets of new settings (a fixed or edited deploy.json) without a restart. Throws a
   * UserError for broken settings and keeps the previous targets; running deployments are unaffected.
   */
  configure(settings: DeploySettings): void {
    const targets = new Map<string, DeployTarget>();
    for (const [name, spec] of Object.entries(settings.targets ?? {})) {
      if (BUILTIN.includes(name)) throw new UserError(`Deploy target "${name}" is built in; give the custom target another name`);
      targets.set(name, customTarget(name, validateCustomTarget(name, spec)));
    }
    for (const t of [localTarget({ python: settings.python, healthTimeoutMs: settings.healthTimeoutMs }), dockerTarget(), kubernetesTarget()]) targets.set(t.name, t);
    for (const t of this.givenTargets) targets.set(t.name, t);
    this.targets = targets;
  }

  targetNames(): string[] {
    return [...this.targets.keys()];
  }

  list(): Deployment[] {
    return this.store.deployments.list().map(toDeployment);
  }

  find(id: number): Deployment | undefined {
    const record = this.store.deployments.get(id);
    return record && toDeployment(record);
  }

  get(id: number | string): Deployment {
    const n = Number(id);
    const d = Number.isInteger(n) ? this.find(n) : undefined;
    if (!d) throw new UserError(`No deployment "${id}". List them with: runboard deployments`);
    return d;
  }

  /** Deploys `NAME`, `NAME@VERSION` or `NAME@ALIAS`; refused (GateError) when its run fails its profile's gates, unless force. */
  async deploy(ref: string | ModelVersion, options: DeployOptions = {}): Promise<DeployResult> {
    const credentials = issue(options.token);
    return { ...(await this.launch(this.plan(ref, options), null, credentials)), token: credentials.token };
  }

  /** Stops a deployment; already stopped ones are returned as they are. */
  async stop(id: number | string): Promise<Deployment> {
    const d = this.get(id);
    if (!LIVE_STATUSES.includes(d.status) && d.status !== 'prepared' && d.status !== 'stopping') return d;
    const target = this.target(d.target);
    this.stopping.add(d.id);
    this.setStatus(d.id, 'stopping');
    try {
      await target.stop(d);
    } catch (err) {
      this.setStatus(d.id, d.status);
      throw err;
    } finally {
      this.stopping.delete(d.id);
    }
    this.store.deployments.markStopped(d.id);
    return this.get(d.id);
  }

  /**
   * Replaces a deployment with an earlier version of its model on the same target (and port):
   * the last one deployed there before it, else the newest registered one below it. With
   * `keepToken` and no token given, a target that checks only the token's hash keeps the old one.
   */
  rollback(id: number | string, options: RollbackOptions & { keepToken: true }): Promise<RollbackResult>;
  rollback(id: number | string, options?: RollbackOptions): Promise<DeployResult>;
  async rollback(id: number | string, options: RollbackOptions & { keepToken?: boolean } = {}): Promise<RollbackResult> {
    const d = this.get(id);
    const previous = this.previousVersion(d);
    if (previous === undefined) throw new UserError(`Nothing to roll back to: ${d.model} has no version older than ${d.version}`);
    return this.replace(d, this.registry.get(d.model, previous)!, options);
  }

  /**
   * Replaces a deployment with another version of its model on the same target and port (a
   * retrained model rolled out, or a rollback); `keepToken` as for rollback.
   */
  rollTo(id: number | string, model: ModelVersion, options: RollbackOptions & { keepToken: true }): Promise<RollbackResult> {
    return this.replace(this.get(id), model, options);
  }

  private async replace(d: Deployment, model: ModelVersion, options: RollbackOptions & { keepToken?: boolean }): Promise<RollbackResult> {
    // Checked before anything stops, so a refused replacement leaves the current deployment serving.
    const plan = this.plan(model, {
      ...options,
      target: d.target,
      port: d.port ?? 0,
      python: options.python ?? (typeof d.config.python === 'string' ? d.config.python : undefined),
      namespace: typeof d.config.namespace === 'string' ? d.config.namespace : undefined,
      // The replacement collects the same baseline the replaced one was configured with.
      baselineRows: options.baselineRows ?? (typeof d.config.baselineRows === 'number' ? d.config.baselineRows : undefined),
    });
    const kept = options.keepToken && options.token === undefined && plan.target.checksTokenHash ? d.config.tokenSha256 : undefined;
    const credentials: Credentials = kept === undefined ? issue(options.token) : { tokenSha256: kept };
    await this.stop(d.id);
    return { ...(await this.launch(plan, d.id, credentials)), token: credentials.token ?? null };
  }

  /** Brings recorded statuses in line with reality: a server that is gone is marked "stopped unexpectedly". */
  async reconcile(): Promise<Deployment[]> {
    const changed: Deployment[] = [];
    for (const d of this.store.deployments.watched().map(toDeployment)) {
      const target = this.targets.get(d.target);
      if (!target || this.stopping.has(d.id)) continue;
      const alive = await target.alive(d);
      if (alive !== false) continue;
      const status = d.status === 'stopping' ? 'stopped' : 'stopped unexpectedly';
      this.store.deployments.markGone(d.id, d.status, status, status === 'stopped' ? null : 'it was no longer running when checked');
      changed.push(this.get(d.id));
    }
    return changed;
  }

  /** The deployment's request log, when its target keeps one on this machine. */
  requestLog(d: Deployment): string | undefined {
    return typeof d.config.requestLog === 'string' ? d.config.requestLog : undefined;
  }

  stats(id: number | string, options: { sinceMs?: number } = {}): RequestStats {
    const log = this.requestLog(this.get(id));
    return requestStats(log ?? '', options);
  }

  private target(name: string): DeployTarget {
    const target = this.targets.get(name);
    if (!target) throw new UserError(`Unknown deploy target "${name}" (targets: ${this.targetNames().join(', ')}). Custom targets go in ${DEPLOY_SETTINGS_FILE}.`);
    return target;
  }

  private plan(ref: string | ModelVersion, options: DeployOptions): Plan {
    const model = typeof ref === 'string' ? this.registry.resolveForDeploy(ref) : ref;
    const target = this.target(options.target ?? 'local');
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`Invalid port ${options.port}: give 1–65535, or 0 for any free port`);
    const forced = enforceGates(this.gatesOf(model), options.force ?? false, `deploy ${model.name}@${model.version}`);
    return { model, modelPath: this.registry.verifiedPath(model), target, forced, options: { ...options, port } };
  }

  /** Gates of the model's run now; when the run was deleted, the ones recorded at registration. */
  private gatesOf(model: ModelVersion): GateCheck {
    const run = model.runId === null ? undefined : this.store.run(model.runId);
    if (run) return checkGates(this.store, run, this.workspace);
    const results = (model.snapshot.gates ?? []).map((g) => ({
      gate: parseGate(g.condition),
      ok: g.ok,
      actual: g.actual ?? undefined,
      reason: `${g.condition}: ${g.ok ? 'held' : 'failed'} at registration (the run is gone)`,
    }));
    return { profile: model.snapshot.run?.profile ?? null, results, failing: results.filter((r) => !r.ok) };
  }

  private async launch(plan: Plan, replacesId: number | null, credentials: Credentials): Promise<Omit<DeployResult, 'token'>> {
    const started = Date.now();
    const config: DeploymentConfig = { tokenSha256: credentials.tokenSha256, ...(plan.options.baselineRows !== undefined ? { baselineRows: plan.options.baselineRows } : {}) };
    const deployDir = ensureRealDir(dataDirOf(this.workspace), join(dataDirOf(this.workspace), 'deploy'));
    const dirOf = (id: number) => join(deployDir, String(id));
    const id = this.store.deployments.create(
      { modelVersionId: plan.model.id, target: plan.target.name, port: plan.options.port || null, config: JSON.stringify(config), forced: plan.forced, replacesId, createdAt: started },
      dirOf,
    );
    const dir = dirOf(id);

    let outcome;
    try {
      ensureRealDir(deployDir, dir);
      outcome = await plan.target.deploy({
        id,
        dir,
        workspace: this.workspace,
        model: plan.model,
        modelPath: plan.modelPath,
        port: plan.options.port ?? 0,
        ...credentials,
        options: plan.options,
        onExit: (info) => this.exitedOnItsOwn(id, info),
      });
    } catch (err) {
      outcome = { status: 'failed' as const, error: (err as Error).message };
    }
    const merged: DeploymentConfig = { ...config, ...outcome.config, ...(outcome.message ? { message: outcome.message } : {}) };
    this.store.deployments.recordOutcome(id, {
      status: outcome.status,
      url: outcome.url ?? null,
      port: outcome.port ?? (plan.options.port || null),
      pid: outcome.pid ?? null,
      config: JSON.stringify(merged),
      error: outcome.error ?? null,
    });
    return { deployment: this.get(id), elapsedMs: Date.now() - started };
  }

  private exitedOnItsOwn(id: number, info: { code: number | null; signal: string | null }): void {
    if (this.stopping.has(id) || !this.store.db.open) return;
    this.store.deployments.markExited(id, `the server exited (${info.code !== null ? `code ${info.code}` : info.signal})`);
  }

  private setStatus(id: number, status: DeploymentStatus): void {
    this.store.deployments.setStatus(id, status);
  }

  private previousVersion(d: Deployment): number | undefined {
    return this.store.deployments.previousVersion(d.model, d.target, d.id, d.version) ?? this.store.models.versionBelow(d.model, d.version);
  }
}

function toDeployment(r: DeploymentRecord): Deployment {
  const config = JSON.parse(r.config) as DeploymentConfig;
  return { ...r, status: r.status as DeploymentStatus, config, message: typeof config.message === 'string' ? config.message : null };
}
