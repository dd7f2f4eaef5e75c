import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { openNoFollow } from '../io/safePaths.ts';
import { tail } from './local.ts';
import { isSameProcess } from '../launch/process.ts';
import { environmentWithoutTokens, freePort, runCommand, sleep, spawnDetached, stopGroup, waitHealthy } from './process.ts';
import type { DeployOutcome, DeployRequest, DeployTarget, Deployment, DeploymentConfig } from './types.ts';

/** A deploy command from settings: argv arrays, never a shell line. */
export interface CustomTargetSpec {
  /** Runs to completion (exit 0 = deployed), or with `background`, keeps running as the server. */
  command: string[];
  /** Run by undeploy, with the same placeholders. */
  stop?: string[];
  background?: boolean;
  /** Where the model answers, e.g. "http://127.0.0.1:${port}"; with `background`, polled at /health. */
  url?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** The recorded pid is still the command this deployment started (not a later program reusing it). */
const isOurs = (d: Deployment): boolean => d.pid !== null && isSameProcess(d.pid, typeof d.config.startedAt === 'number' ? d.config.startedAt : d.createdAt);

export const PLACEHOLDERS = ['${model.path}', '${model.name}', '${model.version}', '${port}'] as const;

export function validateCustomTarget(name: string, spec: unknown): CustomTargetSpec {
  const fail = (problem: string): never => {
    throw new UserError(`Deploy target "${name}": ${problem}`);
  };
  if (typeof spec !== 'object' || spec === null) return fail('must be an object with "command": [argv…]');
  const s = spec as Record<string, unknown>;
  const argv = (field: string): string[] | undefined => {
    const v = s[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string') || !(v[0] as string).trim()) {
      return fail(`"${field}" must be a non-empty array of strings (argv, no shell)`);
    }
    return v as string[];
  };
  const env = s.env ?? {};
  if (typeof env !== 'object' || env === null || !Object.values(env).every((v) => typeof v === 'string')) fail('"env" must map names to strings');
  if (s.url !== undefined && typeof s.url !== 'string') fail('"url" must be a string');
  if (s.timeoutMs !== undefined && (typeof s.timeoutMs !== 'number' || s.timeoutMs <= 0)) fail('"timeoutMs" must be a positive number');
  return {
    command: argv('command') ?? fail('needs "command": [argv…]'),
    stop: argv('stop'),
    background: s.background === true,
    url: s.url as string | undefined,
    timeoutMs: s.timeoutMs as number | undefined,
    env: env as Record<string, string>,
  };
}

/**
 * Placeholders are replaced only where they are a whole argv element, so a value with spaces or
 * shell characters stays one argument and is never parsed; the same values also go in as env vars.
 */
export function substitute(argv: readonly string[], values: Record<string, string>): string[] {
  return argv.map((arg) => (Object.hasOwn(values, arg) ? values[arg]! : arg));
}

function placeholderValues(modelPath: string, name: string, version: number, port: number): Record<string, string> {
  return { '${model.path}': modelPath, '${model.name}': name, '${model.version}': String(version), '${port}': String(port) };
}

function placeholderEnv(values: Record<string, string>, dir: string): Record<string, string> {
  return {
    RUNBOARD_MODEL_PATH: values['${model.path}']!,
    RUNBOARD_MODEL_NAME: values['${model.name}']!,
    RUNBOARD_MODEL_VERSION: values['${model.version}']!,
    RUNBOARD_PORT: values['${port}']!,
    RUNBOARD_DEPLOY_DIR: dir,
  };
}

export function customTarget(name: string, spec: CustomTargetSpec): DeployTarget {
  return {
    name,
    async deploy(req: DeployRequest): Promise<DeployOutcome> {
      const port = req.port || (await freePort());
      const values = placeholderValues(req.modelPath, req.model.name, req.model.version, port);
      const argv = substitute(spec.command, values);
      // A custom command needs the token itself: Deployments always issues one for it.
      const env = environmentWithoutTokens({ ...spec.env, ...placeholderEnv(values, req.dir), RUNBOARD_SERVER_TOKEN: req.token ?? '' });
      const url = spec.url ? spec.url.replaceAll('${port}', String(port)) : null;
      const config: DeploymentConfig = { command: spec.command, stop: spec.stop, background: spec.background, modelPath: req.modelPath };
      const timeoutMs = spec.timeoutMs ?? (spec.background ? 30_000 : 10 * 60_000);
      if (!spec.background) {
        const result = await runCommand(argv, { cwd: req.dir, env, timeoutMs });
        if (result.code !== 0) {
          const detail = result.error ?? `exit code ${result.code}: ${result.stderr.trim().split('\n').slice(-5).join('\n')}`;
          return { status: 'failed', port, url, config, error: `${argv[0]} failed: ${detail}` };
        }
        return { status: 'deployed', port, url, config, message: result.stdout.trim().split('\n').slice(-1)[0] || undefined };
      }
      const outFile = join(req.dir, 'command.out');
      const errFile = join(req.dir, 'command.err');
      const out = openNoFollow(outFile);
      const err = openNoFollow(errFile);
      let child;
      try {
        child = spawnDetached(argv, { cwd: req.dir, env, stdout: out, stderr: err });
        // Its pid alone could name another program after a reboot: start time tells them apart.
        config.startedAt = Date.now();
      } finally {
        closeSync(out);
        closeSync(err);
      }
      let exited: string | undefined;
      let ready = false;
      child.once('error', (e) => (exited = e.message));
      child.once('exit', (code, signal) => {
        exited = `exit ${code ?? signal}`;
        if (ready) req.onExit?.({ code, signal });
      });
      child.unref();
      if (url) {
        const health = await waitHealthy(url, timeoutMs, () => exited !== undefined);
        if (!health.ok) {
          if (child.pid !== undefined && !exited) await stopGroup(child.pid, undefined, 1000);
          return { status: 'failed', port, url, config, error: `${health.error}\n${tail(errFile)}`.trim() };
        }
      } else {
        // Nothing to poll: a command that survives its first second is taken as started.
        await sleep(1000);
      }
      if (exited) return { status: 'failed', port, url, config, error: `${argv[0]} ended (${exited}): ${tail(errFile)}`.trim() };
      ready = true;
      return { status: 'running', port, url, pid: child.pid ?? null, config };
    },
    async stop(d: Deployment): Promise<void> {
      if (isOurs(d)) await stopGroup(d.pid!, undefined);
      if (spec.stop && d.dir) {
        const values = placeholderValues(String(d.config.modelPath ?? ''), d.model, d.version, d.port ?? 0);
        const result = await runCommand(substitute(spec.stop, values), { cwd: d.dir, env: environmentWithoutTokens({ ...spec.env, ...placeholderEnv(values, d.dir) }), timeoutMs: spec.timeoutMs ?? 10 * 60_000 });
        if (result.code !== 0) throw new UserError(`The stop command of target "${name}" failed: ${result.error ?? result.stderr.trim()}`);
      }
    },
    async alive(d: Deployment): Promise<boolean | undefined> {
      return d.pid === null ? undefined : isOurs(d);
    },
  };
}
