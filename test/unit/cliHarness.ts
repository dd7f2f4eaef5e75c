import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a CLI process gets to answer, or to show it started: its cold start alone took 5 s on
 * a 2-core machine at load 18, so a deadline of a few seconds fails a correct CLI.
 */
export const CLI_DEADLINE_MS = 60_000;

/** Runs the real `runboard` CLI as a child process (same Node as the tests). */
export function cli(args: string[], options: { cwd: string; env?: Record<string, string> }): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, RUNBOARD_DB: '', ...options.env },
    encoding: 'utf8',
    timeout: CLI_DEADLINE_MS,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Parses a `--json` answer, failing with the CLI's own output when it is not JSON. */
export function json<T = any>(result: CliResult): T { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}
