// The real MLflow 2.12.2 (Python client and server), where ../shared/mlflow-peer has set it up:
// its sources extracted into $PEERS_DIR (default $TMPDIR/mlflow-peer) and run by Debian's Python.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const PEERS_DIR = process.env.PEERS_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'mlflow-peer');
export const PYTHON = '/usr/bin/python3';
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

/** Python's environment with the extracted MLflow importable. */
export function peerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: [join(PEERS_DIR, 'mlflow-src'), join(PEERS_DIR, 'pydeps'), process.env.PYTHONPATH].filter(Boolean).join(':'), ...extra };
}

/** Why the peer cannot be used here, or undefined when it can. */
export function peerMissing(): string | undefined {
  if (!existsSync(join(PEERS_DIR, 'mlflow-src', 'mlflow', '__init__.py'))) {
    return `the MLflow peer is missing (no ${join(PEERS_DIR, 'mlflow-src')}); set it up with: bash ../shared/mlflow-peer/setup.sh (see ../shared/mlflow-peer/README.md)`;
  }
  const probe = spawnSync(PYTHON, ['-c', 'import mlflow'], { env: peerEnv(), encoding: 'utf8' });
  if (probe.status !== 0) return `the MLflow peer cannot be imported by ${PYTHON}: ${probe.stderr.trim().split('\n').at(-1)}; run bash ../shared/mlflow-peer/setup.sh`;
  return undefined;
}

export interface Served {
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** `runboard serve --json` over `dbPath`, as a user starts it. */
export async function startServe(dbPath: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--json', '--db', dbPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return { url, token, stop: () => stop(child) };
}

/** A real `mlflow server` (SQLite store unless another is given, proxied artifacts) in `dir`, ready to answer. */
export async function startRealMlflow(dir: string, backendStoreUri = `sqlite:///${join(dir, 'mlflow.db')}`): Promise<Served> {
  mkdirSync(join(dir, 'artifacts'), { recursive: true });
  const port = await freePort();
  const child = spawn(
    PYTHON,
    ['-m', 'mlflow', 'server', '--backend-store-uri', backendStoreUri, '--serve-artifacts', '--artifacts-destination', join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '2'],
    { env: peerEnv(), stdio: 'ignore', detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 250) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (waited > 90_000 || child.exitCode !== null) throw new Error(`mlflow server did not start on ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // gunicorn's workers are its children: signal the whole group.
  return { url, token: '', stop: () => stop(child, true) };
}

async function stop(child: ChildProcess, group = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (group) process.kill(-child.pid!, 'SIGTERM');
  else child.kill('SIGTERM');
  await exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a Python script against a tracking server; its last stdout line is a JSON report. */
export async function runPython(
  script: string,
  served: Served,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<{ code: number | null; report: Record<string, unknown>; stderr: string }> {
  const child = spawn(PYTHON, [script, ...(options.args ?? [])], {
    env: peerEnv({ MLFLOW_TRACKING_URI: served.url, ...(served.token ? { MLFLOW_TRACKING_TOKEN: served.token } : {}), ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(last) as Record<string, unknown>;
  } catch {
    // The caller asserts on the exit code and shows stderr.
  }
  return { code, report, stderr };
}
