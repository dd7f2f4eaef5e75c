import { deleteRuns } from '../../core/tracking/deleteRuns.ts';
import { isTerminal, type Run } from '../../core/store/types.ts';
import { parse, requirePositional, toJson, type CliCommand } from '../command.ts';
import { openLaunchStore } from './run.ts';

export const deleteCommand: CliCommand = {
  name: 'delete',
  usage: 'runboard delete RUN… [--yes] [--json]',
  summary: 'Delete runs and their output folders; a pulled run is only forgotten here (without --yes, only says what it would delete)',
  run(ctx) {
    const { values, positionals } = parse(ctx, deleteCommand, { yes: { type: 'boolean', default: false } });
    requirePositional(positionals, 1, deleteCommand);
    // Reconciling first lets a run whose process died unseen be deleted.
    const { store, dbPath } = openLaunchStore(ctx, values.db);
    try {
      const byId = new Map<number, Run>();
      for (const ref of positionals) {
        const run = store.resolveRun(ref);
        byId.set(run.id, run);
      }
      const runs = [...byId.values()];
      if (!values.yes) {
        for (const run of runs) {
          const remote = store.sync.runRemote(run.id);
          const folder = run.runDir ? ` and its folder ${run.runDir}` : '';
          if (remote !== null) ctx.out(`would forget pulled run ${run.id} (${run.name}, ${run.status})${folder}: only this copy; ${remote} keeps the run and the next pull brings it back`);
          else ctx.out(`would delete run ${run.id} (${run.name}, ${run.status})${folder}${isTerminal(run.status) ? '' : ': refused, it is still active'}`);
        }
        ctx.err(`runboard delete: nothing deleted; add --yes to delete ${runs.length === 1 ? 'it' : `these ${runs.length} runs`}`);
        return 1;
      }
      const deleted = deleteRuns(store, dbPath, runs);
      if (values.json) {
        ctx.out(toJson(deleted.map(({ run, folder, note, pulledFrom }) => ({ id: run.id, name: run.name, runDir: run.runDir, folder, note: note ?? null, pulledFrom: pulledFrom ?? null }))));
      } else {
        for (const { run, folder, note, pulledFrom } of deleted) {
          const what = folder === 'removed' ? ` and its folder ${run.runDir}` : folder === 'kept' ? `; kept its folder ${run.runDir}: ${note}` : '';
          if (pulledFrom !== undefined) ctx.err(`runboard: forgot pulled run ${run.id} (${run.name})${what}; ${pulledFrom} keeps the run`);
          else ctx.err(`runboard: deleted run ${run.id} (${run.name})${what}`);
        }
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
