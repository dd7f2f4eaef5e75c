import { own } from '../../core/own.ts';
import { differingParams } from '../../core/runDetails.ts';
import { num, openStore, parse, requirePositional, table, toJson, type CliCommand } from '../command.ts';

export const compareCommand: CliCommand = {
  name: 'compare',
  usage: 'runboard compare RUN RUN… [--json]',
  summary: 'Params that differ and metric summaries side by side',
  run(ctx) {
    const { values, positionals } = parse(ctx, compareCommand, {});
    requirePositional(positionals, 2, compareCommand);
    const store = openStore(ctx, values.db, true);
    try {
      const runs = positionals.map((ref) => store.resolveRun(ref));
      const params = runs.map((r) => store.params(r.id));
      const summaries = runs.map((r) => store.summaries(r.id));
      const differing = differingParams(params);
      const metricKeys = [...new Set(summaries.flatMap((s) => Object.keys(s)))].sort();
      if (values.json) {
        ctx.out(
          toJson({
            runs: runs.map((r, i) => ({ id: r.id, name: r.name, status: r.status, params: params[i] })),
            differingParams: differing,
            metrics: Object.fromEntries(
              metricKeys.map((k) => [
                k,
                summaries.map((s) => {
                  const m = own(s, k);
                  return m ? { last: m.last, min: m.min, max: m.max, count: m.count, lastStep: m.lastStep, replaced: m.replaced } : null;
                }),
              ]),
            ),
          }),
        );
        return 0;
      }
      const header = ['', ...runs.map((r) => `${r.id} ${r.name}`)];
      const rows = [
        ['status', ...runs.map((r) => r.status)],
        ...differing.map((k) => [`param ${k}`, ...params.map((p) => own(p, k) ?? '—')]),
        ...metricKeys.map((k) => [`${k} (last)`, ...summaries.map((s) => num(own(s, k)?.last))]),
      ];
      ctx.out(table(header, rows));
      if (differing.length === 0) ctx.out('\nAll params are the same.');
      return 0;
    } finally {
      store.close();
    }
  },
};
