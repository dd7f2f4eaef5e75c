import { resolve } from 'node:path';
import { runDetails } from '../../core/runDetails.ts';
import { importRunDir } from '../../core/tracking/importDir.ts';
import { openStore, parse, requirePositional, toJson, type CliCommand } from '../command.ts';
import { reconcileAndReport } from './run.ts';

export const importCommand: CliCommand = {
  name: 'import',
  usage: 'runboard import DIR… [--experiment E] [--json]',
  summary: 'Load run folders the Python client made outside a Runboard run',
  async run(ctx) {
    const { values, positionals } = parse(ctx, importCommand, { experiment: { type: 'string' } });
    requirePositional(positionals, 1, importCommand);
    const store = openStore(ctx, values.db);
    try {
      await reconcileAndReport(ctx, store);
      const imported = [];
      for (const dir of positionals) {
        const run = await importRunDir(store, resolve(ctx.cwd, dir), { experiment: values.experiment });
        imported.push(run);
        if (!values.json) ctx.err(`runboard: imported ${dir} as run ${run.id} (${run.name}, ${run.status})`);
      }
      if (values.json) ctx.out(toJson(imported.map((run) => runDetails(store, run))));
      return 0;
    } finally {
      store.close();
    }
  },
};
