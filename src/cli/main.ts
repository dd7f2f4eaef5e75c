import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { storageProblem, UserError } from '../core/errors.ts';
import { resolveDbPath } from '../core/workspace.ts';
import { terminalSafe, type CliCommand, type CliContext } from './command.ts';
import { checkCommand } from './commands/check.ts';
import { compareCommand } from './commands/compare.ts';
import { deleteCommand } from './commands/delete.ts';
import { importCommand } from './commands/import.ts';
import { importMlflowCommand } from './commands/importMlflow.ts';
import { metricsCommand } from './commands/metrics.ts';
import { runCommand } from './commands/run.ts';
import { rerunCommand } from './commands/rerun.ts';
import { stopCommand } from './commands/stop.ts';
import { sweepCommand } from './commands/sweep.ts';
import { runsCommand } from './commands/runs.ts';
import { serveCommand } from './commands/serve.ts';
import { showCommand } from './commands/show.ts';
import { deployCommand, deploymentsCommand, rollbackCommand, undeployCommand } from './commands/deploy.ts';
import { lineageCommand } from './commands/lineage.ts';
import { modelsCommand } from './commands/models.ts';
import { monitorCommand } from './commands/monitor.ts';
import { retrainCommand } from './commands/retrain.ts';
import { pullCommand } from './commands/pull.ts';
import { pushCommand } from './commands/push.ts';
import { remoteCommand } from './commands/remote.ts';

export const COMMANDS: CliCommand[] = [runCommand, sweepCommand, stopCommand, rerunCommand, runsCommand, showCommand, metricsCommand, compareCommand, checkCommand, importCommand, importMlflowCommand,
  deleteCommand, modelsCommand, deployCommand, deploymentsCommand, undeployCommand, rollbackCommand, lineageCommand, monitorCommand, retrainCommand, serveCommand,
  remoteCommand, pushCommand, pullCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'runboard — record, compare and ship machine-learning runs',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split('\n')[0]}`),
    '',
    'Every command takes --db FILE (default: RUNBOARD_DB, else the nearest .runboard/runboard.db).',
    "Run 'runboard COMMAND --help' for a command's options.",
  ].join('\n');
}

/** Commands whose stdout relays a training process's output, which its run folder keeps whole anyway. */
const RELAYS_OUTPUT: ReadonlySet<CliCommand> = new Set([runCommand, rerunCommand, retrainCommand]);

const outputFailures = new Map<NodeJS.WriteStream, NodeJS.ErrnoException>();

/**
 * The CLI's own stdout and stderr may close before it is done (`runboard … | head -1`, a closed
 * terminal) or fail (`> /dev/full`), and Node throws an unhandled stream error as an uncaught
 * exception. A reader that left (EPIPE) is no failure; any other is kept to be reported once.
 */
function guardOutput(stream: NodeJS.WriteStream): void {
  if (stream.listeners('error').includes(keepOutputFailure)) return;
  stream.on('error', keepOutputFailure);
}

function keepOutputFailure(this: NodeJS.WriteStream, err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED' && !outputFailures.has(this)) outputFailures.set(this, err);
}

/** Sync stream writes report their failure on the next tick: wait for it before judging the output. */
async function stdoutFailure(): Promise<NodeJS.ErrnoException | undefined> {
  await new Promise((resolve) => setImmediate(resolve));
  return outputFailures.get(process.stdout);
}

/**
 * A statement failed on a damaged page: which file, and the newest backup to restore (the
 * opening checks only see the header, so this shows up in the middle of a command).
 */
function corruptionReport(args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const dbAt = args.indexOf('--db');
  const explicit = dbAt >= 0 ? args[dbAt + 1] : args.find((a) => a.startsWith('--db='))?.slice('--db='.length);
  const file = resolveDbPath(explicit, cwd, env);
  const backups = existsSync(dirname(file))
    ? readdirSync(dirname(file))
        .filter((name) => name.startsWith(`${basename(file)}.bak-v`))
        .sort((a, b) => Number(b.slice(b.lastIndexOf('-v') + 2)) - Number(a.slice(a.lastIndexOf('-v') + 2)))
    : [];
  const remedy = backups.length
    ? `restore the backup ${join(dirname(file), backups[0]!)} (it holds what was recorded before its schema upgrade)`
    : 'no backup of it exists; sqlite3 ".recover" can salvage the readable part into a new file';
  return `${file} is damaged (SQLITE_CORRUPT: a page of the file is corrupt). Move it away and ${remedy}.`;
}

/** Runs one CLI invocation; user mistakes become one line on stderr and a non-zero exit. */
export async function main(argv: string[], terminal: Pick<CliContext, 'out' | 'err'>, cwd = process.cwd(), env = process.env): Promise<number> {
  const io = { out: (text: string) => terminal.out(terminalSafe(text)), err: (text: string) => terminal.err(terminalSafe(text)) };
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`runboard: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return 2;
  }
  // `--help` anywhere before `--` shows the command's usage.
  const dashdash = args.indexOf('--');
  if ((dashdash === -1 ? args : args.slice(0, dashdash)).some((a) => a === '--help' || a === '-h')) {
    io.out(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  guardOutput(process.stdout);
  guardOutput(process.stderr);
  try {
    const code = await command.run({ args, cwd, env, ...io });
    const lost = await stdoutFailure();
    if (!lost) return code;
    io.err(`runboard ${name}: the output could not be written (${lost.code ?? lost.message})${RELAYS_OUTPUT.has(command) ? '; the run folder keeps it whole' : ''}`);
    return RELAYS_OUTPUT.has(command) ? code : 74; // EX_IOERR
  } catch (err) {
    if (err instanceof UserError) {
      io.err(`runboard ${name}: ${err.message}`);
      return 2;
    }
    if (/^SQLITE_CORRUPT/.test(String((err as { code?: unknown }).code))) {
      io.err(`runboard ${name}: ${corruptionReport(args, cwd, env)}`);
      return 74;
    }
    const storage = storageProblem(err);
    if (storage) {
      io.err(`runboard ${name}: ${storage}`);
      return 74; // EX_IOERR
    }
    io.err(`runboard ${name}: internal error: ${(err as Error).message}`);
    if (env.RUNBOARD_DEBUG) io.err(String((err as Error).stack));
    return 70;
  }
}
