import { evaluateGates } from '../../core/gates.ts';
import { UserError } from '../../core/errors.ts';
import { monitorDeployment } from '../../core/monitor/monitor.ts';
import type { Store } from '../../core/store/store.ts';
import { openStore, parse, requirePositional, toJson, type CliCommand, type CliContext } from '../command.ts';
import { parseSince, parseWindowRows } from './monitor.ts';

const DEPLOYMENT = /^deployment:(\d+)$/;

/**
 * The continuous-training gate: the deployment's window drifted (with --drift) or a live metric
 * from its feedback fails. Without --metric, the monitor gates of the deploy settings or profile apply.
 */
function checkDeployment(ctx: CliContext, store: Store, id: number, values: { drift: boolean; metric?: string[]; window?: string; since?: string; json: boolean }): number {
  const report = monitorDeployment(store, id, {
    windowRows: parseWindowRows(values.window),
    since: values.since === undefined ? undefined : parseSince(values.since),
    thresholds: values.metric?.length ? { gates: values.metric } : undefined,
  });
  if (values.drift && !report.drift) throw new UserError(`Deployment ${id} has no drift to judge yet: ${report.notes[0] ?? 'no reference'}`);
  const results = report.gates.results.filter((r) => values.drift || r.condition !== 'drift');
  if (results.length === 0) throw new UserError(`Deployment ${id} has no monitor gates configured: give --drift or --metric\nusage: ${checkCommand.usage}`);
  const ok = results.every((r) => r.ok);
  if (values.json) ctx.out(toJson({ deployment: id, ok, results }));
  else for (const r of results) (r.ok ? ctx.out : ctx.err)(`${r.ok ? 'pass' : 'FAIL'}  ${r.reason}`);
  return ok ? 0 : 1;
}

export const checkCommand: CliCommand = {
  name: 'check',
  usage: "runboard check RUN --metric 'accuracy>=0.9' [--metric 'min(loss)<=0.3']… [--json] | runboard check deployment:ID [--drift] [--metric 'accuracy>=0.9']… [--window ROWS] [--since TIME] [--json]",
  summary: "Quality gate: exit 0 when every condition holds, 1 otherwise (a run's metrics, or a deployment's drift and live metrics)",
  run(ctx) {
    const { values, positionals } = parse(ctx, checkCommand, {
      metric: { type: 'string', multiple: true },
      drift: { type: 'boolean', default: false },
      window: { type: 'string' },
      since: { type: 'string' },
    });
    requirePositional(positionals, 1, checkCommand);
    const deployment = DEPLOYMENT.exec(positionals[0]!);
    if (!deployment && (values.drift || values.window !== undefined || values.since !== undefined)) {
      throw new UserError(`--drift, --window and --since apply to deployment:ID\nusage: ${checkCommand.usage}`);
    }
    if (!deployment && !values.metric?.length) throw new UserError(`give at least one --metric condition\nusage: ${checkCommand.usage}`);
    const store = openStore(ctx, values.db, true);
    try {
      if (deployment) return checkDeployment(ctx, store, Number(deployment[1]), values);
      const run = store.resolveRun(positionals[0]!);
      const results = evaluateGates(values.metric!, store.summaries(run.id));
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
