import type { Store } from '../store/store.ts';
import type { MetricSummary, Run } from '../store/types.ts';
import { differingParams } from '../runDetails.ts';
import type { Aggregate, CellValue, CompareState, Direction, RunInfo, TableColumn, TableData } from '../../shared/compareProtocol.ts';
import { better, directionsFor } from './direction.ts';
import { toCsv } from './csv.ts';
import { own } from '../own.ts';
import { firstNonFinite } from './nonfinite.ts';
import { FAILED_STATUSES, type NonFinitePoint } from './constants.ts';

/** One run with what the table and the state need, read once per refresh. */
export interface RunSnapshot {
  run: Run;
  params: Record<string, string>;
  summaries: Record<string, MetricSummary>;
  /** Per metric that went NaN or ±Infinity: where it first did. */
  nonfinite: Record<string, NonFinitePoint>;
}

/** The runs that still exist, in the order asked (duplicates dropped). */
export function loadRuns(store: Store, runIds: readonly number[]): Run[] {
  const seen = new Set<number>();
  const runs: Run[] = [];
  for (const id of runIds) {
    if (seen.has(id)) continue;
    seen.add(id);
    const run = store.run(id);
    if (run) runs.push(run);
  }
  return runs;
}

export function snapshot(store: Store, runs: readonly Run[]): RunSnapshot[] {
  return runs.map((run) => {
    const summaries = store.summaries(run.id);
    const nonfinite = Object.fromEntries(
      Object.entries(summaries).flatMap(([metric, summary]) => {
        const point = firstNonFinite(store, run.id, metric, summary);
        return point ? [[metric, point]] : [];
      }),
    );
    return { run, params: store.params(run.id), summaries, nonfinite };
  });
}

/** Counters, not results (`epoch`, `global_step`, `trainer/step`…): nothing to rank. */
const STEP_LIKE = /^(?:.*[/._-])?(?:epoch|step|global_step|iteration|iter|batch|batch_idx|sample|example)s?$/i;

export const isStepLike = (metric: string): boolean => STEP_LIKE.test(metric);

/**
 * Params whose value differs between the runs that have them (a run lacking one does not make
 * it vary): what scatter and parallel coordinates are worth drawing over.
 */
export function varyingParams(paramSets: readonly Record<string, string>[]): string[] {
  const keys = [...new Set(paramSets.flatMap((p) => Object.keys(p)))].sort();
  return keys.filter((k) => {
    const values = paramSets.map((p) => own(p, k)).filter((v): v is string => v !== undefined);
    // `0.1` and `0.10` are one value.
    return new Set(values.map((v) => (v.trim() !== '' && Number.isFinite(Number(v)) ? String(Number(v)) : v))).size > 1;
  });
}

export const EPOCH_METRIC = 'epoch';

function hasEpoch(summaries: Record<string, MetricSummary>): boolean {
  const epoch = own(summaries, EPOCH_METRIC);
  return epoch !== undefined && epoch.count > epoch.nonfinite;
}

export function compareState(snapshots: readonly RunSnapshot[], overrides: Record<string, Direction> = {}): CompareState {
  const metrics = [...new Set(snapshots.flatMap((s) => Object.keys(s.summaries)))].sort();
  const params = [...new Set(snapshots.flatMap((s) => Object.keys(s.params)))].sort();
  const runs: RunInfo[] = snapshots.map(({ run, params, summaries, nonfinite }) => ({
    id: run.id,
    name: run.name,
    experiment: run.experiment,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    hasEpoch: hasEpoch(summaries),
    params,
    nonfinite,
    replaced: Object.fromEntries(Object.entries(summaries).flatMap(([metric, s]) => (s.replaced > 0 ? [[metric, s.replaced]] : []))),
  }));
  return {
    runs,
    metrics,
    params,
    differingParams: snapshots.length > 1 ? differingParams(snapshots.map((s) => s.params)) : [],
    varyingParams: varyingParams(snapshots.map((s) => s.params)),
    directions: directionsFor(metrics, overrides),
    live: snapshots.some((s) => s.run.status === 'running' || s.run.status === 'queued'),
  };
}

/**
 * The metrics to chart on a fresh panel, at most four: the profiles' gate metrics (what decides
 * whether a run is good), then validation metrics, then loss-like and accuracy-like ones; never
 * step-like counters.
 */
export function defaultMetrics(metrics: readonly string[], gateMetrics: readonly string[] = []): string[] {
  const gates = new Set(gateMetrics);
  const kind = (m: string) => (/loss/i.test(m) ? 0 : /acc|f1|auc|score|error/i.test(m) ? 1 : 2);
  const rank = (m: string) => (gates.has(m) ? 0 : /^(?:val|valid|validation|eval)[_/.-]/i.test(m) ? 1 + kind(m) : 4 + kind(m));
  return metrics
    .filter((m) => !isStepLike(m))
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .slice(0, 4)
    .map((x) => x.m);
}

/** The value a metric column shows: `best` is the series' min or max by the metric's direction. */
export function aggregateValue(summary: MetricSummary | undefined, aggregate: Aggregate, direction: Direction): number | null {
  if (!summary) return null;
  switch (aggregate) {
    case 'last':
      return summary.last;
    case 'min':
      return summary.min;
    case 'max':
      return summary.max;
    case 'best':
      return direction === 'min' ? summary.min : summary.max;
    default: {
      const never: never = aggregate;
      throw new Error(`Unknown aggregate ${String(never)}`);
    }
  }
}

/** JSON has no NaN or ±Infinity: they travel as text, which sorts after numbers and is never best. */
const metricCell = (x: number | null): CellValue => (x === null ? null : Number.isFinite(x) ? x : String(x));

const isNumeric = (text: string): boolean => text.trim() !== '' && Number.isFinite(Number(text));

/**
 * The table: one row per run; columns run id/name/status/experiment, every param (the differing
 * ones first), and per metric its last and best value (a step-like counter: its last only). Each
 * metric column names the runs with the best value by the metric's direction, among the runs that
 * did not fail or crash.
 */
export function buildTable(snapshots: readonly RunSnapshot[], directions: Record<string, Direction>): TableData {
  const metrics = [...new Set(snapshots.flatMap((s) => Object.keys(s.summaries)))].sort();
  const params = [...new Set(snapshots.flatMap((s) => Object.keys(s.params)))].sort();
  const differing = new Set(snapshots.length > 1 ? differingParams(snapshots.map((s) => s.params)) : []);
  const orderedParams = [...params.filter((p) => differing.has(p)), ...params.filter((p) => !differing.has(p))];

  const columns: TableColumn[] = [
    { id: 'run.id', kind: 'run', label: '#', differing: false, numeric: true, best: [] },
    { id: 'run.name', kind: 'run', label: 'Run', differing: false, numeric: false, best: [] },
    { id: 'run.status', kind: 'run', label: 'Status', differing: false, numeric: false, best: [] },
    { id: 'run.experiment', kind: 'run', label: 'Experiment', differing: false, numeric: false, best: [] },
  ];
  const cellsOf: ((s: RunSnapshot) => CellValue)[] = [(s) => s.run.id, (s) => s.run.name, (s) => s.run.status, (s) => s.run.experiment];
  for (const p of orderedParams) {
    const values = snapshots.map((s) => own(s.params, p)).filter((v): v is string => v !== undefined);
    columns.push({ id: `param.${p}`, kind: 'param', label: p, differing: differing.has(p), numeric: values.length > 0 && values.every(isNumeric), best: [] });
    cellsOf.push((s) => own(s.params, p) ?? null);
  }
  for (const m of metrics) {
    const direction = own(directions, m) ?? 'max';
    const ranked = !isStepLike(m);
    // A counter's "best" is just its largest value: only its last is shown.
    for (const aggregate of ranked ? (['last', 'best'] as const) : (['last'] as const)) {
      const values = snapshots.map((s) => aggregateValue(own(s.summaries, m), aggregate, direction));
      // A failed or crashed run's number is no result to pick: it is never best.
      const candidate = (i: number) => ranked && !FAILED_STATUSES.includes(snapshots[i]!.run.status);
      let bestValue = NaN;
      values.forEach((v, i) => {
        if (v !== null && candidate(i) && better(v, bestValue, direction)) bestValue = v;
      });
      const best = Number.isFinite(bestValue) ? snapshots.filter((_, i) => candidate(i) && values[i] === bestValue).map((s) => s.run.id) : [];
      columns.push({ id: `metric.${aggregate}.${m}`, kind: 'metric', label: `${m} (${aggregate})`, differing: false, numeric: true, metric: m, aggregate, direction, best });
      cellsOf.push((s) => metricCell(aggregateValue(own(s.summaries, m), aggregate, direction)));
    }
  }
  return { columns, rows: snapshots.map((s) => ({ runId: s.run.id, cells: cellsOf.map((cell) => cell(s)) })) };
}

/** The table as CSV: one header row (`param:lr`, `loss:last`, …), one row per run. */
export function tableCsv(table: TableData): string {
  return toCsv([table.columns.map((c) => (c.kind === 'param' ? `param:${c.label}` : c.kind === 'metric' ? `${c.metric}:${c.aggregate}` : c.id.slice(4))), ...table.rows.map((r) => r.cells)]);
}
