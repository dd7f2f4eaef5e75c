import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { servedRowsCsv } from '../../core/monitor/export.ts';
import { monitorDeployment } from '../../core/monitor/monitor.ts';
import type { MonitorReport } from '../../core/monitor/report.ts';
import { isoTime, num, openStore, parse, requirePositional, table, toJson, type CliCommand, type CliContext } from '../command.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO time, or a duration back from now like 30m, 2h, 7d. */
export function parseSince(text: string, now = Date.now()): number {
  const duration = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (duration) return now - Number(duration[1]) * UNITS[duration[2]!]!;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UserError(`--since takes a time like 2026-01-31T12:00 or a duration like 30m, 2h, 7d, not "${text}"`);
  return time;
}

/** `--window`: a whole number of rows. */
export function parseWindowRows(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) === 0) throw new UserError(`--window takes a number of rows (1 or more), not "${text}"`);
  return Number(text);
}

const fixed = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined ? '–' : v.toFixed(digits));

function printReport(ctx: CliContext, r: MonitorReport): void {
  ctx.out(`Deployment ${r.deployment}: ${r.model}@${r.version}`);
  ctx.out(`Window: ${r.window.rows} rows, ${r.window.requests} requests, ${isoTime(r.window.from) ?? '–'} … ${isoTime(r.window.to) ?? '–'}`);
  ctx.out(`Traffic: ${r.traffic.errors} errors (${(r.traffic.errorRate * 100).toFixed(1)} %), p50 ${fixed(r.traffic.p50Ms)} ms, p95 ${fixed(r.traffic.p95Ms)} ms`);
  if (r.reference) ctx.out(`Reference: ${r.reference.source}, ${r.reference.rows} rows${r.reference.ready ? '' : ' (still collecting)'}`);
  if (r.drift) {
    ctx.out(`Drift: ${r.drift.drifted ? 'DRIFTED' : 'none'}${r.drift.prediction ? `; prediction psi ${fixed(r.drift.prediction.psi)}${r.drift.prediction.drifted ? ' (drifted)' : ''}` : ''}`);
    const quality = new Map(r.quality.map((q) => [q.name, q]));
    ctx.out(
      table(
        ['FEATURE', 'PSI', 'KS', 'JS', 'P (HOLM)', 'MISSING', 'OUT OF RANGE', 'UNSEEN', 'DRIFT'],
        r.drift.features.map((f) => {
          const q = quality.get(f.name);
          return [f.name, fixed(f.psi), fixed(f.ks), fixed(f.js), f.adjustedP === null ? '–' : num(f.adjustedP), String(q?.missing ?? 0), String(q?.outOfRange ?? 0), String(q?.unseen ?? 0), f.drifted ? f.reasons.join('; ') : ''];
        }),
      ),
    );
  }
  const p = r.performance;
  if (p) {
    ctx.out(
      p.task === 'classification'
        ? `Performance (${p.labeled} labeled): accuracy ${fixed(p.accuracy)}, precision ${fixed(p.precision)}, recall ${fixed(p.recall)}, f1 ${fixed(p.f1)}`
        : `Performance (${p.labeled} labeled): MAE ${fixed(p.mae)}, RMSE ${fixed(p.rmse)}`,
    );
  } else {
    ctx.out('Performance: no labels yet (POST them to /feedback)');
  }
  for (const g of r.gates.results) (g.ok ? ctx.out : ctx.err)(`${g.ok ? 'pass' : 'FAIL'}  ${g.reason}`);
  for (const note of r.notes) ctx.out(`Note: ${note}`);
}

export const monitorCommand: CliCommand = {
  name: 'monitor',
  usage: 'runboard monitor ID [--window ROWS] [--since TIME] [--json] | runboard monitor export ID --out FILE.csv [--labeled]',
  summary: "A deployment's drift, data quality, live accuracy and traffic; or export its served rows",
  run(ctx) {
    const { values, positionals } = parse(ctx, monitorCommand, {
      window: { type: 'string' },
      since: { type: 'string' },
      out: { type: 'string' },
      labeled: { type: 'boolean', default: false },
    });
    requirePositional(positionals, 1, monitorCommand);
    const exporting = positionals[0] === 'export';
    if (exporting) requirePositional(positionals, 2, monitorCommand);
    const id = positionals[exporting ? 1 : 0]!;
    if (!/^\d+$/.test(id)) throw new UserError(`a deployment id is a number, not "${id}"\nusage: ${monitorCommand.usage}`);
    const store = openStore(ctx, values.db, true);
    try {
      if (exporting) {
        if (!values.out) throw new UserError(`give the CSV file with --out\nusage: ${monitorCommand.usage}`);
        const { text, result } = servedRowsCsv(store, Number(id), { labeledOnly: values.labeled });
        const file = resolve(ctx.cwd, values.out);
        writeFileSync(file, text);
        if (values.json) ctx.out(toJson({ file, ...result }));
        else ctx.out(`${result.rows} rows (${result.labeled} labeled) → ${file}`);
        return 0;
      }
      const report = monitorDeployment(store, id, {
        windowRows: parseWindowRows(values.window),
        since: values.since === undefined ? undefined : parseSince(values.since),
      });
      if (values.json) ctx.out(toJson(report));
      else printReport(ctx, report);
      return 0;
    } finally {
      store.close();
    }
  },
};
