import { UserError } from '../../core/errors.ts';
import { stopRun } from '../../core/launch/stop.ts';
import { parse, requirePositional, toJson, type CliCommand } from '../command.ts';
import { openLaunchStore } from './run.ts';

export const stopCommand: CliCommand = {
  name: 'stop',
  usage: 'runboard stop RUN [--grace SECONDS] [--json]',
  summary: 'Stop a running run (or a whole sweep) from any terminal: SIGTERM, then SIGKILL after the grace period',
  async run(ctx) {
    const { values, positionals } = parse(ctx, stopCommand, { grace: { type: 'string' } });
    requirePositional(positionals, 1, stopCommand);
    const grace = values.grace === undefined ? 10 : Number(values.grace);
    if (values.grace !== undefined && (values.grace.trim() === '' || !Number.isFinite(grace) || grace < 0)) {
      throw new UserError(`--grace takes a number of seconds, not "${values.grace}"`);
    }
    const { store } = openLaunchStore(ctx, values.db);
    try {
      const { run, alreadyEnded } = await stopRun(store, store.resolveRun(positionals[0]!).id, { graceMs: grace * 1000 });
      if (values.json) ctx.out(toJson({ id: run.id, status: run.status, signal: run.signal, alreadyEnded }));
      else if (alreadyEnded) ctx.out(`run ${run.id} had already ended (${run.status})`);
      else ctx.out(`run ${run.id} ${run.status}${run.signal ? ` (${run.signal})` : ''}${run.error ? `: ${run.error}` : ''}`);
      return 0;
    } finally {
      store.close();
    }
  },
};
