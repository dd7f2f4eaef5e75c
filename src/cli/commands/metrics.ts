import { UserError } from '../../core/errors.ts';
import { isoTime, num, openStore, parse, requirePositional, table, toJson, type CliCommand } from '../command.ts';

export const metricsCommand: CliCommand = {
  name: 'metrics',
  usage: 'runboard metrics RUN KEY [--buckets N] [--from STEP] [--to STEP] [--json]',
  summary: 'A metric series, or its min/max envelope in N buckets',
  run(ctx) {
    const { values, positionals } = parse(ctx, metricsCommand, {
      buckets: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    });
    requirePositional(positionals, 2, metricsCommand);
    const number = (name: string, text: string | undefined) => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new UserError(`--${name} takes a number, not "${text}"`);
      return n;
    };
    const buckets = number('buckets', values.buckets);
    if (buckets !== undefined && buckets < 1) throw new UserError('--buckets takes a whole number ≥ 1');
    const from = number('from', values.from);
    const to = number('to', values.to);
    const store = openStore(ctx, values.db, true);
    try {
      const run = store.resolveRun(positionals[0]!);
      const key = positionals[1]!;
      const summaries = store.summaries(run.id);
      if (!Object.hasOwn(summaries, key)) {
        throw new UserError(`Run ${run.id} has no metric "${key}" (it has: ${Object.keys(summaries).join(', ') || 'none'})`);
      }
      if (buckets !== undefined) {
        const envelope = store.envelope(run.id, key, buckets, from, to);
        if (values.json) ctx.out(toJson({ run: run.id, ...envelope }));
        else
          ctx.out(
            table(
              // MIN, MAX and MEAN are over finite values; NONFINITE counts the NaN and ±Infinity points they leave out.
              ['START', 'END', 'MIN', 'MAX', 'MEAN', 'LAST', 'COUNT', 'NONFINITE'],
              envelope.buckets.map((b) => [String(b.start), String(b.end), num(b.min), num(b.max), num(b.mean), num(b.last), String(b.count), String(b.nonfinite)]),
            ),
          );
      } else {
        const points = store.series(run.id, key, from, to);
        if (values.json) ctx.out(toJson({ run: run.id, key, points }));
        else ctx.out(table(['STEP', 'VALUE', 'TIME'], points.map((p) => [String(p.step), num(p.value), isoTime(p.wall) ?? '?'])));
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
