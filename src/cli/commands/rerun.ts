import { rerun } from '../../core/launch/rerun.ts';
import { parse, requirePositional, type CliCommand } from '../command.ts';
import { cliMlflow, followRun, NO_MLFLOW_OPTION, openLaunchStore, terminalOutput } from './run.ts';

export const rerunCommand: CliCommand = {
  name: 'rerun',
  usage: 'runboard rerun RUN [--name N] [--no-mlflow]',
  summary: 'Run a run again: same command, cwd, params, profile and inputs (warns when the code changed)',
  async run(ctx) {
    const { values, positionals } = parse(ctx, rerunCommand, { name: { type: 'string' }, ...NO_MLFLOW_OPTION });
    requirePositional(positionals, 1, rerunCommand);
    const { store, dbPath, workspace } = openLaunchStore(ctx, values.db);
    const mlflow = cliMlflow(store, values['no-mlflow']);
    try {
      const original = store.resolveRun(positionals[0]!);
      const handle = await rerun(store, original.id, { dbPath, workspace, name: values.name, mlflow }, terminalOutput(ctx));
      ctx.err(`runboard: run ${handle.run.id} re-runs run ${original.id}`);
      return await followRun(ctx, handle);
    } finally {
      await mlflow?.close();
      store.close();
    }
  },
};
