import type { Store } from '../store/store.ts';
import { MAX_TIER, MIN_TIER } from '../store/metrics.ts';
import type { EnvelopeBucket, Run, SeriesPoint } from '../store/types.ts';
import { DEFAULT_POINTS, MAX_POINTS, NO_GROUP, orderGroups } from './constants.ts';
import { own } from '../own.ts';
import type { GroupSeries, RunSeries, SeriesData, SeriesQuery, XAxis, XRange } from '../../shared/compareProtocol.ts';
import { EPOCH_METRIC } from './table.ts';
import { toCsv } from './csv.ts';

/** Samples of the epoch metric (or of a series' walls) used to map steps to x and back. */
interface Curve {
  /** Steps, non-decreasing. */
  steps: number[];
  /** x at each step (epoch, or wall ms), non-decreasing in practice. */
  xs: number[];
}

/** A range holding at most this many points (or the points asked, if more) is sent raw, in full. */
export const EXACT_POINTS = 2000;

/** Bucket count used to read the `epoch` metric and to map a time range back to steps. */
const MAP_POINTS = 2048;

/**
 * Raw rows one query may read across all its runs (~1 µs each) to bucket a range finer than the
 * smallest rollup tier; past that, long ranges are read from the tiers only.
 */
export const RAW_ROW_BUDGET = 200_000;

/** What a range of a series reads as: every raw point, or whole buckets of the envelope. */
type Read = { exact: true; points: SeriesPoint[] } | { exact: false; source: string; buckets: EnvelopeBucket[] };

/**
 * Reads series for the compare view. Caches the step→epoch curve per run (epochs are logged once;
 * `invalidate` drops a run's cache when it logs more).
 */
export class SeriesReader {
  private readonly epochCurves = new Map<number, Curve | null>();
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  invalidate(runId: number): void {
    this.epochCurves.delete(runId);
  }

  /** The run's step→epoch curve, or null when it never logged a finite `epoch`. */
  epochCurve(runId: number): Curve | null {
    let curve = this.epochCurves.get(runId);
    if (curve === undefined) {
      const steps: number[] = [];
      const xs: number[] = [];
      for (const [step, , value] of samples(this.read(runId, EPOCH_METRIC, null, null, MAP_POINTS, MAP_POINTS))) {
        if (Number.isFinite(value)) {
          steps.push(step);
          xs.push(value);
        }
      }
      curve = steps.length ? { steps, xs } : null;
      this.epochCurves.set(runId, curve);
    }
    return curve;
  }

  /**
   * Every run's series for a view: ~`points` buckets of the min/max envelope per run, or the raw
   * points when the range holds no more than EXACT_POINTS (or `points`). With `groupBy`, one mean ± std series per value
   * of that param instead. `onlyRuns` limits the work to runs that changed (live refresh).
   */
  query(runs: readonly Run[], query: SeriesQuery, paramsOf: (runId: number) => Record<string, string>, onlyRuns?: ReadonlySet<number>): Omit<SeriesData, 'requestId' | 'partial'> {
    const points = clampPoints(query.points);
    if (query.groupBy !== null) {
      // Each run at twice the grid's resolution, so a run's bucket never straddles many cells.
      const rawBudget = Math.max(EXACT_POINTS, Math.floor(RAW_ROW_BUDGET / Math.max(1, runs.length)));
      const perRun = runs.map((run) => this.runSeries(run, query.metric, query.xAxis, query.range, points * 2, rawBudget)).filter((s): s is RunSeries => s !== null);
      const groups = groupSeries(perRun, query.groupBy, paramsOf, points, query.xAxis, query.range);
      return { query, domain: extentOfGroups(groups), runs: [], groups };
    }
    const out: RunSeries[] = [];
    const todo = runs.filter((run) => !onlyRuns || onlyRuns.has(run.id));
    const rawBudget = Math.max(EXACT_POINTS, Math.floor(RAW_ROW_BUDGET / Math.max(1, todo.length)));
    for (const run of todo) {
      const s = this.runSeries(run, query.metric, query.xAxis, query.range, points, rawBudget);
      if (s) out.push(s);
    }
    return { query, domain: extentOfRuns(out), runs: out, groups: null };
  }

  /** One run's series in the axis and range asked; null when the run cannot be shown on that axis. */
  runSeries(run: Run, metric: string, xAxis: XAxis, range: XRange | null, points: number, rawBudget = RAW_ROW_BUDGET): RunSeries | null {
    const epoch = xAxis === 'epoch' ? this.epochCurve(run.id) : null;
    if (xAxis === 'epoch' && !epoch) return null;
    const t0 = run.startedAt ?? run.createdAt;
    let lo: number | null = null;
    let hi: number | null = null;
    if (range) {
      if (xAxis === 'step') {
        lo = Math.floor(range.from);
        hi = Math.ceil(range.to);
      } else {
        const curve = epoch ?? this.wallCurve(run.id, metric, xAxis === 'relative' ? t0 : 0);
        [lo, hi] = stepBounds(curve, range);
      }
      if (hi < lo) return emptySeries(run.id);
    }
    const read = this.read(run.id, metric, lo, hi, points, rawBudget);
    const toX = (step: number, wall: number): number =>
      xAxis === 'step' ? step : xAxis === 'relative' ? (wall - t0) / 1000 : xAxis === 'wall' ? wall : interpolate(epoch!, step);
    if (read.exact) {
      const raw = read.points;
      const n = raw.length;
      const buffer = new Float64Array(n * 3);
      const x = buffer.subarray(0, n);
      const step = buffer.subarray(n, 2 * n);
      const y = buffer.subarray(2 * n, 3 * n);
      for (let i = 0; i < n; i++) {
        const p = raw[i]!;
        x[i] = toX(p.step, p.wall);
        step[i] = p.step;
        y[i] = p.value;
      }
      return { runId: run.id, exact: true, source: 'raw', x, step, y, min: null, max: null, count: null, nonfinite: null };
    }
    const buckets = read.buckets;
    const n = buckets.length;
    const buffer = new Float64Array(n * 7);
    const [x, step, y, min, max, count, nonfinite] = [0, 1, 2, 3, 4, 5, 6].map((k) => buffer.subarray(k * n, (k + 1) * n)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    for (let i = 0; i < n; i++) {
      const b = buckets[i]!;
      x[i] = toX(b.lastStep, b.lastWall);
      step[i] = b.lastStep;
      y[i] = b.mean;
      min[i] = b.min;
      max[i] = b.max;
      count[i] = b.count - b.nonfinite;
      nonfinite[i] = b.nonfinite;
    }
    return { runId: run.id, exact: false, source: read.source, x, step, y, min, max, count, nonfinite };
  }

  /**
   * The steps [lo, hi] of a series (null: from its start / to its end), as every raw point when
   * there are at most max(points, EXACT_POINTS) of them, else as at most `points` envelope buckets.
   * Long ranges are read from rollup tiers only: buckets of a power-of-two width aligned to the
   * tier (between half and all of `points`), plus one bucket for each ragged end, so the cost
   * depends on the bucket count, never on the series length. Only a range too short for the finest
   * tier (64 steps) and within `rawBudget` steps is bucketed from raw points.
   */
  read(runId: number, metric: string, from: number | null, to: number | null, points: number, rawBudget: number): Read {
    const extent = this.extent(runId, metric);
    const empty: Read = { exact: true, points: [] };
    if (!extent) return empty;
    const lo = Math.max(from ?? extent[0], extent[0]);
    const hi = Math.min(to ?? extent[1], extent[1]);
    if (hi < lo) return empty;
    const exactLimit = Math.max(points, EXACT_POINTS);
    const span = hi - lo + 1;
    if (span <= exactLimit) return { exact: true, points: this.store.series(runId, metric, lo, hi) };
    let buckets: EnvelopeBucket[];
    let source: string;
    const size = 2 ** Math.min(MAX_TIER, Math.max(MIN_TIER, Math.ceil(Math.log2(span / points))));
    const a = Math.ceil(lo / size) * size;
    const b = Math.floor((hi + 1) / size) * size;
    // Raw points are bucketed only where the finest tier would give too few buckets (a zoom into a
    // few thousand steps) and the query's row budget allows it.
    const tiersTooCoarse = span / 2 ** MIN_TIER < points / 2;
    if ((tiersTooCoarse && span <= rawBudget) || b <= a) {
      const env = this.store.envelope(runId, metric, points, lo, hi);
      buckets = env.buckets;
      source = env.source;
    } else {
      // The whole tier buckets in the middle come back one per output bucket (the range is aligned
      // and a multiple of the bucket width); each ragged end is one more bucket.
      const middle = this.store.envelope(runId, metric, (b - a) / size, a, b - 1);
      source = middle.source;
      buckets = [
        ...(a > lo ? this.store.envelope(runId, metric, 1, lo, a - 1).buckets : []),
        ...middle.buckets,
        ...(b <= hi ? this.store.envelope(runId, metric, 1, b, hi).buckets : []),
      ];
    }
    let total = 0;
    for (const bucket of buckets) total += bucket.count;
    // Sparse series (an eval every 1000 steps): few points over a long range are sent whole.
    if (total <= exactLimit) return { exact: true, points: this.store.series(runId, metric, lo, hi) };
    return { exact: false, source, buckets };
  }

  /**
   * Where a series starts and ends, without reading points: the store's envelope of an empty
   * range reports the range clamped to the series ([first, -∞] and [+∞, last]).
   */
  private extent(runId: number, metric: string): [number, number] | null {
    const head = this.store.envelope(runId, metric, 1, Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
    if (head.from === Number.MIN_SAFE_INTEGER) return null;
    const tail = this.store.envelope(runId, metric, 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (tail.to === Number.MAX_SAFE_INTEGER) return null;
    return [head.from, tail.to];
  }

  /** Walls of a series sampled over its whole length: maps a time range back to steps. */
  private wallCurve(runId: number, metric: string, t0: number): Curve {
    const steps: number[] = [];
    const xs: number[] = [];
    for (const [step, wall] of samples(this.read(runId, metric, null, null, MAP_POINTS, MAP_POINTS))) {
      steps.push(step);
      xs.push(t0 === 0 ? wall : (wall - t0) / 1000);
    }
    return { steps, xs };
  }
}

/** [step, wall, value] of each raw point, or of each bucket's last point. */
function samples(read: Read): [number, number, number][] {
  return read.exact ? read.points.map((p) => [p.step, p.wall, p.value]) : read.buckets.map((b) => [b.lastStep, b.lastWall, b.last]);
}

export const clampPoints = (points: number): number => Math.max(16, Math.min(MAX_POINTS, Math.floor(Number.isFinite(points) ? points : DEFAULT_POINTS)));

function emptySeries(runId: number): RunSeries {
  const none = new Float64Array(0);
  return { runId, exact: true, source: 'raw', x: none, step: none, y: none, min: null, max: null, count: null, nonfinite: null };
}

/**
 * The steps covering an x range: from the last sample before it to the first sample after it, so
 * lines run on to the chart's edges. Outside the samples the range is open on that side.
 */
export function stepBounds(curve: Curve, range: XRange): [number, number] {
  const { steps, xs } = curve;
  let lo = -Infinity;
  let hi = Infinity;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i]! < range.from) lo = steps[i]!;
    else break;
  }
  for (let i = xs.length - 1; i >= 0; i--) {
    if (xs[i]! > range.to) hi = steps[i]!;
    else break;
  }
  return [lo === -Infinity ? Number.MIN_SAFE_INTEGER : lo, hi === Infinity ? Number.MAX_SAFE_INTEGER : hi];
}

/**
 * x at a step, linear between the curve's samples and extended along its first and last segments
 * (an epoch logged at each epoch's end still gives the steps before it fractional epochs).
 */
export function interpolate(curve: Curve, step: number): number {
  const { steps, xs } = curve;
  const n = steps.length;
  if (n === 1) return xs[0]!;
  let i: number;
  if (step <= steps[0]!) i = 0;
  else if (step >= steps[n - 1]!) i = n - 2;
  else {
    let a = 0;
    let b = n - 1;
    while (b - a > 1) {
      const mid = (a + b) >> 1;
      if (steps[mid]! <= step) a = mid;
      else b = mid;
    }
    i = a;
  }
  const s0 = steps[i]!;
  const s1 = steps[i + 1]!;
  if (s1 === s0) return xs[i + 1]!;
  return xs[i]! + ((xs[i + 1]! - xs[i]!) * (step - s0)) / (s1 - s0);
}

/**
 * Runs grouped by a param value and aligned on x: a grid of `points` cells over the range (or the
 * data); per run, the count-weighted mean of its points in each cell (interpolated across cells it
 * skipped); per cell, the mean and the sample standard deviation over the group's runs there.
 */
export function groupSeries(
  series: readonly RunSeries[],
  groupBy: string,
  paramsOf: (runId: number) => Record<string, string>,
  points: number,
  xAxis: XAxis,
  range: XRange | null,
): GroupSeries[] {
  const extent = range ?? extentOfRuns(series);
  if (!extent) return [];
  const byGroup = new Map<string, RunSeries[]>();
  for (const s of series) {
    const key = own(paramsOf(s.runId), groupBy) ?? NO_GROUP;
    let list = byGroup.get(key);
    if (!list) byGroup.set(key, (list = []));
    list.push(s);
  }
  const lo = extent.from;
  const span = extent.to - extent.from;
  // Steps are integers: cells of whole steps, so a narrow range keeps one cell per step.
  const width = xAxis === 'step' ? Math.max(1, Math.ceil((span + 1) / points)) : span > 0 ? span / points : 1;
  const cells = Math.max(1, xAxis === 'step' ? Math.ceil((span + 1) / width) : points);
  const cellX = (c: number) => (xAxis === 'step' ? lo + c * width + (width - 1) / 2 : lo + (c + 0.5) * width);

  return orderGroups(byGroup.keys()).map((group) => {
    const members = byGroup.get(group)!;
    const sum = new Float64Array(cells);
    const sumSq = new Float64Array(cells);
    const n = new Float64Array(cells);
    const runSum = new Float64Array(cells);
    const runWeight = new Float64Array(cells);
    for (const s of members) {
      runSum.fill(0);
      runWeight.fill(0);
      for (let i = 0; i < s.x.length; i++) {
        const v = s.y[i]!;
        const w = s.count ? s.count[i]! : 1;
        if (!Number.isFinite(v) || w <= 0) continue;
        const c = Math.floor((s.x[i]! - lo) / width);
        if (c < 0 || c >= cells) continue;
        runSum[c]! += v * w;
        runWeight[c]! += w;
      }
      // A run contributes to every cell between its first and last point: where it logged
      // nothing (it logs less often than the grid), its value is interpolated between its
      // neighbours, so runs logging at different rates still average cell by cell.
      let prev = -1;
      for (let c = 0; c < cells; c++) {
        if (runWeight[c]! === 0) continue;
        const m = runSum[c]! / runWeight[c]!;
        if (prev >= 0 && c - prev > 1) {
          const m0 = runSum[prev]! / runWeight[prev]!;
          for (let k = prev + 1; k < c; k++) {
            const v = m0 + ((m - m0) * (k - prev)) / (c - prev);
            sum[k]! += v;
            sumSq[k]! += v * v;
            n[k]!++;
          }
        }
        sum[c]! += m;
        sumSq[c]! += m * m;
        n[c]!++;
        prev = c;
      }
    }
    let used = 0;
    for (let c = 0; c < cells; c++) if (n[c]! > 0) used++;
    const buffer = new Float64Array(used * 4);
    const x = buffer.subarray(0, used);
    const mean = buffer.subarray(used, 2 * used);
    const std = buffer.subarray(2 * used, 3 * used);
    const count = buffer.subarray(3 * used, 4 * used);
    let j = 0;
    for (let c = 0; c < cells; c++) {
      const k = n[c]!;
      if (k === 0) continue;
      const m = sum[c]! / k;
      x[j] = cellX(c);
      mean[j] = m;
      std[j] = k > 1 ? Math.sqrt(Math.max(0, (sumSq[c]! - k * m * m) / (k - 1))) : 0;
      count[j] = k;
      j++;
    }
    return { group, runIds: members.map((s) => s.runId), x, mean, std, n: count };
  });
}

function extentOfRuns(series: readonly RunSeries[]): XRange | null {
  let from = Infinity;
  let to = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      if (x < from) from = x;
      if (x > to) to = x;
    }
  }
  return from <= to ? { from, to } : null;
}

function extentOfGroups(groups: readonly GroupSeries[]): XRange | null {
  let from = Infinity;
  let to = -Infinity;
  for (const g of groups) {
    if (g.x.length === 0) continue;
    from = Math.min(from, g.x[0]!);
    to = Math.max(to, g.x[g.x.length - 1]!);
  }
  return from <= to ? { from, to } : null;
}

/**
 * The series a chart shows, as CSV in long form: one row per point. Downsampled points carry the
 * bucket's min, max and point count; exact points leave them empty.
 */
export function seriesCsv(data: Pick<SeriesData, 'query' | 'runs' | 'groups'>, nameOf: (runId: number) => string): string {
  const { metric, xAxis } = data.query;
  if (data.groups) {
    const rows: (string | number | null)[][] = [['group', 'runs', 'metric', xAxis, 'mean', 'std', 'n']];
    for (const g of data.groups) {
      for (let i = 0; i < g.x.length; i++) rows.push([g.group, g.runIds.join(' '), metric, g.x[i]!, g.mean[i]!, g.std[i]!, g.n[i]!]);
    }
    return toCsv(rows);
  }
  const header = xAxis === 'step' ? ['run_id', 'run', 'metric', 'step', 'value', 'min', 'max', 'count'] : ['run_id', 'run', 'metric', xAxis, 'step', 'value', 'min', 'max', 'count'];
  const rows: (string | number | null)[][] = [header];
  for (const s of data.runs) {
    const name = nameOf(s.runId);
    for (let i = 0; i < s.x.length; i++) {
      const tail = [s.y[i]!, s.min ? s.min[i]! : null, s.max ? s.max[i]! : null, s.count ? s.count[i]! : null];
      rows.push(xAxis === 'step' ? [s.runId, name, metric, s.step[i]!, ...tail] : [s.runId, name, metric, s.x[i]!, s.step[i]!, ...tail]);
    }
  }
  return toCsv(rows);
}
