import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { findProfilesWorkspace } from '../../core/launch/profiles.ts';
import { reconcile, reconcileCrashed } from '../../core/launch/reconcile.ts';
import { launch, launchProfile, type RunHandle, type RunOutput } from '../../core/launch/runner.ts';
import { MlflowLaunches } from '../../core/mlflow/launchEnv.ts';
import { startLaunchServer } from '../../core/mlflow/launchRoutes.ts';
import { resolveDbPath, workspaceOf } from '../../core/workspace.ts';
import { Store } from '../../core/store/store.ts';
import { parse, type CliCommand, type CliContext } from '../command.ts';

/** `k=v` → [k, v]; the value stays text, as typed. */
export function parseParam(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--param takes key=value, not "${text}"`);
  return [text.slice(0, eq).trim(), text.slice(eq + 1)];
}

/** Opens the store for a command that launches or ends runs, first closing out runs whose process died unseen. */
export function openLaunchStore(ctx: CliContext, db: string | undefined): { store: Store; dbPath: string; workspace: string } {
  const dbPath = resolveDbPath(db, ctx.cwd, ctx.env);
  const store = Store.open(dbPath);
  try {
    for (const run of reconcileCrashed(store)) ctx.err(`runboard: run ${run.id} (${run.name}) had crashed: ${run.error}`);
  } catch (err) {
    store.close();
    throw err;
  }
  return { store, dbPath, workspace: findProfilesWorkspace(ctx.cwd, workspaceOf(dbPath)) };
}

/** Runs reconciliation (see reconcile.ts) and says what it ended or could not resume. */
export async function reconcileAndReport(ctx: CliContext, store: Store): Promise<void> {
  const { ended, problems } = await reconcile(store);
  for (const run of ended) ctx.err(`runboard: run ${run.id} (${run.name}) ${run.status === 'killed' ? 'was stopped' : 'had crashed'}: ${run.error}`);
  for (const problem of problems) ctx.err(`runboard: warning: ${problem}`);
}

/**
 * Read-only commands reconcile first when the database exists and can be written; one that
 * cannot (read-only media, a newer schema, damage) is left to the read that follows to report.
 */
export async function reconcileIfWritable(ctx: CliContext, db: string | undefined): Promise<void> {
  const dbPath = resolveDbPath(db, ctx.cwd, ctx.env);
  if (!existsSync(dbPath)) return;
  let store: Store;
  try {
    store = Store.open(dbPath);
  } catch {
    return;
  }
  try {
    await reconcileAndReport(ctx, store);
  } catch (err) {
    // Settling is a courtesy of a read: a busy or failing database must not keep the answer back.
    ctx.err(`runboard: warning: crashed runs were not settled: ${(err as Error).message}`);
  } finally {
    store.close();
  }
}

/**
 * The training output goes straight through while the terminal or pipe takes it (once its reader
 * has gone, capture goes on alone); snapshot problems become warnings on stderr.
 */
export function terminalOutput(ctx: CliContext): RunOutput {
  const relay = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    if (stream.writable) stream.write(chunk);
  };
  return {
    stdout: relay(process.stdout),
    stderr: relay(process.stderr),
    warning: (text) => ctx.err(`runboard: warning: ${text}`),
  };
}

/** The launch commands' opt-out of MLflow: the user's own MLFLOW_* variables pass through. */
export const NO_MLFLOW_OPTION = { 'no-mlflow': { type: 'boolean', default: false } } as const;

/**
 * The one MLflow server of this CLI process, on 127.0.0.1 and a free port, started when the first
 * launch needs it (a profile may opt out) and shared by a sweep's runs; undefined with --no-mlflow.
 * The caller closes it when its runs have ended.
 */
export function cliMlflow(store: Store, noMlflow: boolean | undefined): MlflowLaunches | undefined {
  if (noMlflow) return undefined;
  return new MlflowLaunches((launches) => startLaunchServer(store, launches));
}

/** Ctrl-C, a kill of the CLI, or its terminal closing (SIGHUP). */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Waits for a launched run, Ctrl-C (or a kill of the CLI, or its terminal closing) stopping it as
 * killed and a second one killing it at once. Its end becomes the CLI's exit code: the command's own, 128+signal,
 * or 127 when it could not start.
 */
export async function followRun(ctx: CliContext, handle: RunHandle): Promise<number> {
  ctx.err(`runboard: run ${handle.run.id} (${handle.run.name}) started`);
  let asked = 0;
  const stop = () => {
    asked++;
    if (asked === 1) ctx.err('runboard: stopping (again to kill at once)');
    void handle.stop(asked === 1 ? undefined : 0);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  try {
    const run = await handle.done;
    ctx.err(`runboard: run ${run.id} ${run.status}${run.signal ? ` (${run.signal})` : ''}${run.error ? `: ${run.error}` : ''}`);
    if (run.status === 'failed' && run.exitCode === null) return 127;
    if (run.signal) return 128 + (signalNumber(run.signal) ?? 1);
    return run.exitCode ?? 1;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
}

export const runCommand: CliCommand = {
  name: 'run',
  usage:
    'runboard run [--experiment E] [--name N] [--param k=v]… [--input PATH]… [--interpreter PY] [--no-mlflow] (--profile P | -- CMD ARGS…)',
  summary: 'Run a training command or a profile and record it (exits with its exit code)',
  async run(ctx) {
    const { values, positionals } = parse(ctx, runCommand, {
      experiment: { type: 'string' },
      name: { type: 'string' },
      param: { type: 'string', multiple: true },
      input: { type: 'string', multiple: true },
      profile: { type: 'string' },
      interpreter: { type: 'string' },
      ...NO_MLFLOW_OPTION,
    });
    if (values.profile !== undefined && positionals.length > 0) {
      throw new UserError(`give either --profile ${values.profile} or a command after --, not both\nusage: ${runCommand.usage}`);
    }
    if (values.profile === undefined && positionals.length === 0) throw new UserError(`Nothing to run.\nusage: ${runCommand.usage}`);
    const params = Object.fromEntries((values.param ?? []).map(parseParam));
    const inputs = (values.input ?? []).map((input) => resolve(ctx.cwd, input));
    const { store, dbPath, workspace } = openLaunchStore(ctx, values.db);
    const mlflow = cliMlflow(store, values['no-mlflow']);
    try {
      await reconcileAndReport(ctx, store);
      const common = { dbPath, experiment: values.experiment, name: values.name, params, inputs, interpreter: values.interpreter, workspace, mlflow };
      const handle =
        values.profile !== undefined
          ? launchProfile(store, { ...common, profile: values.profile }, terminalOutput(ctx))
          : launch(store, { ...common, command: positionals, cwd: ctx.cwd }, terminalOutput(ctx));
      return await followRun(ctx, handle);
    } finally {
      await mlflow?.close();
      store.close();
    }
  },
};

export function signalNumber(name: string): number | undefined {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return numbers[name];
}
