import { UserError } from '../../core/errors.ts';
import { promoteRetrained, startRetrain } from '../../core/monitor/retrain.ts';
import { parse, requirePositional, toJson, type CliCommand } from '../command.ts';
import { followRun, openLaunchStore, terminalOutput } from './run.ts';

export const retrainCommand: CliCommand = {
  name: 'retrain',
  usage: 'runboard retrain DEPLOYMENT_ID [--name N] [--promote] [--json]',
  summary: "Re-run a deployment's training run on the rows it served (RUNBOARD_PRODUCTION_DATA); --promote rolls the new model out when its gates pass",
  async run(ctx) {
    const { values, positionals } = parse(ctx, retrainCommand, { name: { type: 'string' }, promote: { type: 'boolean', default: false } });
    requirePositional(positionals, 1, retrainCommand);
    const id = positionals[0]!;
    if (!/^\d+$/.test(id)) throw new UserError(`a deployment id is a number, not "${id}"\nusage: ${retrainCommand.usage}`);
    const { store, dbPath, workspace } = openLaunchStore(ctx, values.db);
    try {
      // stdout carries only the answer ({"run": id}); the training output goes to stderr.
      const terminal = terminalOutput(ctx);
      const output = { ...terminal, stdout: terminal.stderr };
      const started = await startRetrain(store, Number(id), { dbPath, workspace, name: values.name }, output);
      ctx.err(`runboard: run ${started.handle.run.id} retrains ${started.source.name}@${started.source.version} on ${started.rows} served rows (${started.data})`);
      const code = await followRun(ctx, started.handle);
      const answer: Record<string, unknown> = { run: started.handle.run.id, data: started.data, rows: started.rows };
      if (values.promote) {
        const outcome = code === 0 ? await promoteRetrained(store, Number(id), started.handle.run.id, { workspace }) : { promoted: false as const, reason: `run ${started.handle.run.id} failed` };
        if (outcome.promoted) {
          const d = outcome.deployment.deployment;
          answer.promoted = { model: outcome.version.name, version: outcome.version.version, aliases: outcome.aliases, deployment: d.id, url: d.url, status: d.status };
          ctx.err(`runboard: ${outcome.version.name}@${outcome.version.version} now serves as deployment ${d.id} at ${d.url ?? '(no url)'}`);
        } else {
          answer.promoted = null;
          answer.reason = outcome.reason;
          ctx.err(`runboard: not promoted: ${outcome.reason}`);
        }
      }
      ctx.out(values.json ? toJson(answer) : JSON.stringify({ run: started.handle.run.id }));
      return code;
    } finally {
      store.close();
    }
  },
};
