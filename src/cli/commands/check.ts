import { evaluateGates } from '../../core/gates.ts';
import { UserError } from '../../core/errors.ts';
import { openStore, parse, requirePositional, toJson, type CliCommand } from '../command.ts';

export const checkCommand: CliCommand = {
  name: 'check',
  usage: "runboard check RUN --metric 'accuracy>=0.9' [--metric 'min(loss)<=0.3']… [--json]",
  summary: 'Quality gate: exit 0 when every condition holds, 1 otherwise',
  run(ctx) {
    const { values, positionals } = parse(ctx, checkCommand, { metric: { type: 'string', multiple: true } });
    requirePositional(positionals, 1, checkCommand);
    if (!values.metric?.length) throw new UserError(`give at least one --metric condition\nusage: ${checkCommand.usage}`);
    const store = openStore(ctx, values.db, true);
    try {
      const run = store.resolveRun(positionals[0]!);
      const results = evaluateGates(values.metric, store.summaries(run.id));
      const ok = results.every((r) => r.ok);
      if (values.json) {
        ctx.out(toJson({ run: run.id, ok, results: results.map((r) => ({ condition: r.gate.text, ok: r.ok, actual: r.actual ?? null })) }));
      } else {
        for (const r of results) (r.ok ? ctx.out : ctx.err)(`${r.ok ? 'pass' : 'FAIL'}  ${r.reason}`);
      }
      return ok ? 0 : 1;
    } finally {
      store.close();
    }
  },
};
