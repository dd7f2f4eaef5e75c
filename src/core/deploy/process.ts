import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { Writable } from 'node:stream';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Spawn failure (not found, timeout), if any. */
  error?: string;
}

/** Runs argv (never a shell) to completion; never rejects. `input` goes to its stdin. */
export function runCommand(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        const code = child.exitCode;
        let error: string | undefined;
        if (e?.code === 'ENOENT') error = `${argv[0]} is not installed (not found on PATH)`;
        else if (e?.killed) error = `${argv[0]} did not finish within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`;
        else if (e && code === null) error = e.message;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), error });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** The first line of a command's complaint, for one-line messages. */
export function firstLine(result: CommandResult): string {
  const text = result.error ?? (result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`);
  return text.split('\n')[0]!.trim();
}

/** A port nobody listens on right now (for targets that must be told one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** GET a URL on this machine; resolves with status and body, or rejects on connection errors. */
export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `<url>/health` until it answers 200 or `timeoutMs` passes; `gone` stops early when the process died. */
export async function waitHealthy(url: string, timeoutMs: number, gone: () => boolean = () => false): Promise<{ ok: boolean; body?: unknown; error?: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
    try {
      const res = await httpGet(`${url}/health`, Math.max(100, Math.min(2000, deadline - Date.now())));
      if (res.status === 200) return { ok: true, body: JSON.parse(res.body) };
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (gone()) return { ok: false, error: 'the server exited' };
    if (Date.now() + delay > deadline) return { ok: false, error: `no healthy answer from ${url}/health within ${timeoutMs} ms (${last})` };
    await sleep(delay);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Whether `pid` is a live process; with `marker`, also that its command line contains it (Linux),
 * so a pid reused by an unrelated process after a reboot is not taken for ours.
 */
export function processAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone; EPERM: another user's process, so not a server we started.
    return false;
  }
  const proc = `/proc/${pid}`;
  if (!existsSync(proc)) return true;
  try {
    // A zombie has exited; it only waits for its parent to collect it.
    const stat = readFileSync(`${proc}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    return marker === undefined || readFileSync(`${proc}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/** SIGTERM to a process group, SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopGroup(pid: number, marker: string | undefined, graceMs = 5000): Promise<void> {
  if (!processAlive(pid, marker)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  // Ours until it is gone, though an exiting process's command line already reads empty.
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      signal(pid, 'SIGKILL');
      await sleep(50);
      if (Date.now() > deadline + 2000) return;
    }
    await sleep(25);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  }
}

/** Bearer tokens this process may hold (the CLI's, a server's): a long-lived server inherits neither. */
const TOKEN_VARIABLES = ['RUNBOARD_DEPLOY_TOKEN', 'RUNBOARD_SERVER_TOKEN'];

/** This process's environment without tokens, plus `extra`. */
export function environmentWithoutTokens(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of TOKEN_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

/**
 * Spawns argv detached in its own process group, output to files; the caller unrefs it. `secret`
 * goes down a pipe the child inherits as file descriptor 3, so it is in neither argv nor the
 * environment (both readable in /proc/PID by the same user for as long as the child lives).
 */
export function spawnDetached(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv; stdout: number; stderr: number; secret?: string }) {
  const secretPipe = options.secret === undefined ? [] : ['pipe' as const];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', options.stdout, options.stderr, ...secretPipe] });
  const pipe = child.stdio[3] as Writable | null | undefined;
  if (pipe && options.secret !== undefined) {
    // A child that fails to start or exits early closes its end: its exit is what the caller reports.
    pipe.on('error', () => undefined);
    pipe.end(options.secret);
  }
  return child;
}
