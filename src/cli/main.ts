import { storageProblem, UserError } from '../core/errors.ts';
import { terminalSafe, type CliCommand, type CliContext } from './command.ts';
import { checkCommand } from './commands/check.ts';
import { compareCommand } from './commands/compare.ts';
import { importCommand } from './commands/import.ts';
import { metricsCommand } from './commands/metrics.ts';
import { runCommand } from './commands/run.ts';
import { rerunCommand } from './commands/rerun.ts';
import { stopCommand } from './commands/stop.ts';
import { sweepCommand } from './commands/sweep.ts';
import { runsCommand } from './commands/runs.ts';
import { showCommand } from './commands/show.ts';
import { deployCommand, deploymentsCommand, rollbackCommand, undeployCommand } from './commands/deploy.ts';
import { lineageCommand } from './commands/lineage.ts';
import { modelsCommand } from './commands/models.ts';

export const COMMANDS: CliCommand[] = [runCommand, sweepCommand, stopCommand, rerunCommand, runsCommand, showCommand, metricsCommand, compareCommand, checkCommand, importCommand,
  modelsCommand, deployCommand, deploymentsCommand, undeployCommand, rollbackCommand, lineageCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'runboard — record, compare and ship machine-learning runs',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --db FILE (default: RUNBOARD_DB, else the nearest .runboard/runboard.db).',
    "Run 'runboard COMMAND --help' for a command's options.",
  ].join('\n');
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
  try {
    return await command.run({ args, cwd, env, ...io });
  } catch (err) {
    if (err instanceof UserError) {
      io.err(`runboard ${name}: ${err.message}`);
      return 2;
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
