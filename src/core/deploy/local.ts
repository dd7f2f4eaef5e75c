import { closeSync, existsSync, readFileSync } from 'node:fs';
import { ensureRealDir, openNoFollow } from '../io/safePaths.ts';
import { versionReference } from '../monitor/reference.ts';
import { join } from 'node:path';
import { pythonDir } from '../paths.ts';
import type { ModelVersion } from '../registry/registry.ts';
import { environmentWithoutTokens, processAlive, sleep, spawnDetached, stopGroup, waitHealthy } from './process.ts';
import type { DeployOutcome, DeployRequest, DeployTarget, Deployment } from './types.ts';

export const DEFAULT_PYTHON = '/usr/bin/python3';
/** Rows served first that become the monitoring reference when the model's run logged none. */
export const DEFAULT_BASELINE_ROWS = 500;
export const serverScript = (): string => join(pythonDir(), 'runboard_server', 'server.py');
/** The descriptor `spawnDetached` hands its secret on. */
const TOKEN_FD = 3;

export interface LocalSettings {
  /** Interpreter when neither the deploy options nor the model's run name one. */
  python?: string;
  healthTimeoutMs?: number;
  /** See DeployOptions.baselineRows. */
  baselineRows?: number;
}

/** The interpreter the model's run used, when it was recorded and still exists. */
export function modelInterpreter(model: ModelVersion): string | undefined {
  const env = model.snapshot.environment as { python?: { executable?: unknown } } | null | undefined;
  const executable = env?.python?.executable;
  return typeof executable === 'string' && existsSync(executable) ? executable : undefined;
}

/** The model server as a detached process on 127.0.0.1, outliving the deployer (CLI or editor). */
export function localTarget(settings: LocalSettings = {}): DeployTarget {
  return {
    name: 'local',
    checksTokenHash: true,
    async deploy(req: DeployRequest): Promise<DeployOutcome> {
      const python = req.options.python ?? settings.python ?? modelInterpreter(req.model) ?? DEFAULT_PYTHON;
      const requestLog = join(req.dir, 'requests.jsonl');
      const outFile = join(req.dir, 'server.out');
      const errFile = join(req.dir, 'server.err');
      const monitorDir = ensureRealDir(req.dir, join(req.dir, 'monitor'));
      const config = { python, requestLog, monitorDir };
      const reference = versionReference(req.model.storedPath);
      const argv = [python, serverScript(), '--model', req.modelPath, '--name', req.model.name, '--version', String(req.model.version),
        '--port', String(req.port), '--log', requestLog, '--token-sha256-fd', String(TOKEN_FD),
        '--monitor-dir', monitorDir, '--baseline-rows', String(req.options.baselineRows ?? settings.baselineRows ?? DEFAULT_BASELINE_ROWS),
        ...(reference ? ['--reference', reference] : [])];
      const out = openNoFollow(outFile);
      const err = openNoFollow(errFile);
      let child;
      try {
        // The server only checks tokens, so it gets the hash, down a pipe: nothing to find in /proc/PID.
        child = spawnDetached(argv, { cwd: req.dir, env: environmentWithoutTokens(), stdout: out, stderr: err, secret: req.tokenSha256 });
      } finally {
        closeSync(out);
        closeSync(err);
      }
      let exited: { code: number | null; signal: string | null } | undefined;
      let ready = false;
      let spawnError: string | undefined;
      child.once('error', (e) => (spawnError = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} not found: pass --python or set the interpreter in settings` : e.message));
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        if (ready) req.onExit?.(exited);
      });
      child.unref();

      const timeoutMs = req.options.healthTimeoutMs ?? settings.healthTimeoutMs ?? 30_000;
      const deadline = Date.now() + timeoutMs;
      let listening: { port: number } | undefined;
      const failed = async (error: string): Promise<DeployOutcome> => {
        if (child.pid !== undefined && !exited) await stopGroup(child.pid, undefined, 1000);
        const stderr = tail(errFile);
        return { status: 'failed', error: stderr ? `${error}\n${stderr}` : error, config };
      };
      // The server prints one JSON line once it listens (or why it cannot).
      while (!listening) {
        if (spawnError) return failed(spawnError);
        const event = lastEvent(outFile);
        if (event?.event === 'error') return failed(`The model server could not start: ${event.message}`);
        if (event?.event === 'listening' && typeof event.port === 'number') listening = { port: event.port };
        else if (exited) return failed(`The model server exited (code ${exited.code ?? exited.signal}) before listening`);
        else if (Date.now() > deadline) return failed(`The model server did not start listening within ${timeoutMs} ms`);
        else await sleep(25);
      }
      const url = `http://127.0.0.1:${listening.port}`;
      const health = await waitHealthy(url, Math.max(1000, deadline - Date.now()), () => exited !== undefined);
      if (!health.ok) return failed(health.error ?? 'health check failed');
      ready = true;
      return { status: 'running', url, port: listening.port, pid: child.pid ?? null, config };
    },
    async stop(d: Deployment): Promise<void> {
      if (d.pid !== null) await stopGroup(d.pid, marker(d));
    },
    async alive(d: Deployment): Promise<boolean> {
      return d.pid !== null && processAlive(d.pid, marker(d));
    },
  };
}

/** Our server's command line names its request log, which lives in the deployment's own folder. */
const marker = (d: Deployment): string | undefined => (d.dir ? join(d.dir, 'requests.jsonl') : undefined);

function lastEvent(file: string): { event?: string; port?: unknown; message?: string } | undefined {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      return JSON.parse(line);
    } catch {
      // A line still being written.
    }
  }
  return undefined;
}

/** The end of a log file, for error messages. */
export function tail(file: string, lines = 8): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
