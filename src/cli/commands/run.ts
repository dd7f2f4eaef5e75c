import { UserError } from '../../core/errors.ts';
import { launch } from '../../core/launch/runner.ts';
import { resolveDbPath } from '../../core/workspace.ts';
import { Store } from '../../core/store/store.ts';
import { parse, type CliCommand } from '../command.ts';

/** `k=v` → [k, v]; the value stays text, as typed. */
export function parseParam(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--param takes key=value, not "${text}"`);
  return [text.slice(0, eq).trim(), text.slice(eq + 1)];
}

export const runCommand: CliCommand = {
  name: 'run',
  usage: 'runboard run [--experiment E] [--name N] [--param k=v]… [--input PATH]… [--profile P] -- CMD ARGS…',
  summary: 'Run a training command and record it (exits with its exit code)',
  async run(ctx) {
    const { values, positionals } = parse(ctx, runCommand, {
      experiment: { type: 'string' },
      name: { type: 'string' },
      param: { type: 'string', multiple: true },
      input: { type: 'string', multiple: true },
      profile: { type: 'string' },
    });
    if (positionals.length === 0) throw new UserError(`Nothing to run.\nusage: ${runCommand.usage}`);
    const dbPath = resolveDbPath(values.db, ctx.cwd, ctx.env);
    const store = Store.open(dbPath);
    try {
      const handle = launch(
        store,
        {
          dbPath,
          command: positionals,
          cwd: ctx.cwd,
          experiment: values.experiment,
          name: values.name,
          profile: values.profile,
          params: Object.fromEntries((values.param ?? []).map(parseParam)),
        },
        { stdout: (c) => process.stdout.write(c), stderr: (c) => process.stderr.write(c) },
      );
      ctx.err(`runboard: run ${handle.run.id} (${handle.run.name}) started`);
      // Ctrl-C or a kill of the CLI stops the training process and records it as killed.
      const stop = () => void handle.stop();
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      const run = await handle.done;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      ctx.err(`runboard: run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}`);
      if (run.error) return 127;
      if (run.signal) return 128 + (signalNumber(run.signal) ?? 1);
      return run.exitCode ?? 1;
    } finally {
      store.close();
    }
  },
};

function signalNumber(name: string): number | undefined {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[name];
}
