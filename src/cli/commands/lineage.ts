import { formatLineage, lineage, parseLineageRef } from '../../core/registry/lineage.ts';
import { openStore, parse, requirePositional, toJson, type CliCommand } from '../command.ts';

export const lineageCommand: CliCommand = {
  name: 'lineage',
  usage: 'runboard lineage (RUN | NAME@VERSION | deployment:ID) [--json]',
  summary: 'Where a run, model version or deployment came from (data, code) and what was made of it',
  run(ctx) {
    const { values, positionals } = parse(ctx, lineageCommand, {});
    requirePositional(positionals, 1, lineageCommand);
    const store = openStore(ctx, values.db, true);
    try {
      const l = lineage(store, parseLineageRef(store, positionals[0]!));
      ctx.out(values.json ? toJson(l) : formatLineage(l));
      return 0;
    } finally {
      store.close();
    }
  },
};
