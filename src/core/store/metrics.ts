import type { Db, Statement } from './db.ts';
import type { Envelope, EnvelopeBucket, MetricPoint, MetricSummary, SeriesPoint } from './types.ts';

/** Rollup tiers: bucket widths 2^6 … 2^24 steps. Below 64 steps per bucket raw points are cheap. */
export const MIN_TIER = 6;
export const MAX_TIER = 24;
const TIER_SIZES = Array.from({ length: MAX_TIER - MIN_TIER + 1 }, (_, i) => 2 ** (MIN_TIER + i));

interface Partial {
  min: number;
  max: number;
  sum: number;
  count: number;
  nonfinite: number;
  /** NaN is stored as NULL, so `last` keeps null for it. */
  last: number | null;
  lastStep: number;
  lastWall: number;
}

const emptyPartial = (): Partial => ({
  min: Infinity,
  max: -Infinity,
  sum: 0,
  count: 0,
  nonfinite: 0,
  last: null,
  lastStep: -Infinity,
  lastWall: 0,
});

function accumulate(p: Partial, step: number, wall: number, value: number): void {
  if (Number.isFinite(value)) {
    if (value < p.min) p.min = value;
    if (value > p.max) p.max = value;
    p.sum += value;
    p.count++;
  } else {
    p.nonfinite++;
  }
  if (step >= p.lastStep) {
    p.last = Number.isNaN(value) ? null : value;
    p.lastStep = step;
    p.lastWall = wall;
  }
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const nullToNaN = (x: number | null): number => (x === null ? NaN : x);

/** Batched metric ingest and envelope reads over the raw table and its rollup tiers. */
export class MetricStore {
  private readonly keyIds = new Map<string, number>();
  private readonly s: Record<string, Statement>;
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
    this.s = {
      keyId: db.prepare('SELECT id FROM metric_keys WHERE name = ?').pluck(),
      addKey: db.prepare('INSERT INTO metric_keys (name) VALUES (?)'),
      insert: db.prepare('INSERT OR IGNORE INTO metrics (run_id, key_id, step, wall, value) VALUES (?, ?, ?, ?, ?)'),
      rollup: db.prepare(`
        INSERT INTO metric_rollups AS r (run_id, key_id, tier, bucket, min, max, sum, count, nonfinite, last, last_step, last_wall)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET
          min = min(coalesce(r.min, excluded.min), coalesce(excluded.min, r.min)),
          max = max(coalesce(r.max, excluded.max), coalesce(excluded.max, r.max)),
          sum = r.sum + excluded.sum,
          count = r.count + excluded.count,
          nonfinite = r.nonfinite + excluded.nonfinite,
          last = CASE WHEN excluded.last_step >= r.last_step THEN excluded.last ELSE r.last END,
          last_wall = CASE WHEN excluded.last_step >= r.last_step THEN excluded.last_wall ELSE r.last_wall END,
          last_step = max(r.last_step, excluded.last_step)`),
      summary: db.prepare(`
        INSERT INTO metric_summaries AS r (run_id, key_id, last, last_step, last_wall, min, max, count, nonfinite)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET
          min = min(coalesce(r.min, excluded.min), coalesce(excluded.min, r.min)),
          max = max(coalesce(r.max, excluded.max), coalesce(excluded.max, r.max)),
          count = r.count + excluded.count,
          nonfinite = r.nonfinite + excluded.nonfinite,
          last = CASE WHEN excluded.last_step >= r.last_step THEN excluded.last ELSE r.last END,
          last_wall = CASE WHEN excluded.last_step >= r.last_step THEN excluded.last_wall ELSE r.last_wall END,
          last_step = max(r.last_step, excluded.last_step)`),
      summaries: db.prepare(`
        SELECT k.name AS key, s.last, s.last_step, s.last_wall, s.min, s.max, s.count, s.nonfinite
        FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ? ORDER BY k.name`),
      firstStep: db.prepare('SELECT min(step) FROM metrics WHERE run_id = ? AND key_id = ?').pluck(),
      lastStep: db.prepare('SELECT max(step) FROM metrics WHERE run_id = ? AND key_id = ?').pluck(),
      raw: db.prepare(
        'SELECT step, wall, value FROM metrics WHERE run_id = ? AND key_id = ? AND step BETWEEN ? AND ? ORDER BY step',
      ),
      tier: db.prepare(`
        SELECT bucket, min, max, sum, count, nonfinite, last, last_step, last_wall FROM metric_rollups
        WHERE run_id = ? AND key_id = ? AND tier = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`),
    };
  }

  /** The id of a metric name, created on first use. */
  keyId(name: string, create = true): number | undefined {
    let id = this.keyIds.get(name);
    if (id !== undefined) return id;
    id = this.s.keyId.get(name) as number | undefined;
    if (id === undefined && create) id = Number(this.s.addKey.run(name).lastInsertRowid);
    if (id !== undefined) this.keyIds.set(name, id);
    return id;
  }

  /**
   * Stores points in one transaction and maintains summaries and rollups for the points that are
   * new: a point already stored for (run, key, step) is ignored, so re-ingesting a file after a
   * crash never duplicates. Returns how many points were inserted.
   */
  log(runId: number, points: readonly MetricPoint[]): number {
    return this.logTx(runId, points);
  }

  private readonly logTx = (runId: number, points: readonly MetricPoint[]): number =>
    this.db.transaction(() => this.logInTransaction(runId, points))();

  private logInTransaction(runId: number, points: readonly MetricPoint[]): number {
    const now = Date.now();
    // Per key: its summary and, per tier, the bucket being filled. Points usually arrive in step
    // order, so a bucket is flushed once when the step leaves it (a later point of the same bucket
    // simply upserts again).
    const open = new Map<number, { summary: Partial; buckets: number[]; partials: Partial[] }>();
    const flush = (keyId: number, tier: number, bucket: number, p: Partial) =>
      this.s.rollup.run(runId, keyId, tier, bucket, finiteOrNull(p.min), finiteOrNull(p.max), p.sum, p.count, p.nonfinite, p.last, p.lastStep, p.lastWall);
    let inserted = 0;
    for (const point of points) {
      const keyId = this.keyId(point.key)!;
      const wall = point.wall ?? now;
      const value = point.value;
      const step = point.step;
      if (this.s.insert.run(runId, keyId, step, wall, Number.isNaN(value) ? null : value).changes === 0) continue;
      inserted++;
      let state = open.get(keyId);
      if (!state) {
        state = { summary: emptyPartial(), buckets: TIER_SIZES.map(() => NaN), partials: TIER_SIZES.map(emptyPartial) };
        open.set(keyId, state);
      }
      accumulate(state.summary, step, wall, value);
      for (let t = 0; t < TIER_SIZES.length; t++) {
        const bucket = Math.floor(step / TIER_SIZES[t]!);
        if (bucket !== state.buckets[t]) {
          if (!Number.isNaN(state.buckets[t]!)) flush(keyId, MIN_TIER + t, state.buckets[t]!, state.partials[t]!);
          state.buckets[t] = bucket;
          state.partials[t] = emptyPartial();
        }
        accumulate(state.partials[t]!, step, wall, value);
      }
    }
    for (const [keyId, { summary: p, buckets, partials }] of open) {
      this.s.summary.run(runId, keyId, p.last, p.lastStep, p.lastWall, finiteOrNull(p.min), finiteOrNull(p.max), p.count + p.nonfinite, p.nonfinite);
      buckets.forEach((bucket, t) => flush(keyId, MIN_TIER + t, bucket, partials[t]!));
    }
    return inserted;
  }

  summaries(runId: number): Record<string, MetricSummary> {
    const out: Record<string, MetricSummary> = {};
    for (const row of this.s.summaries.all(runId) as SummaryRow[]) {
      out[row.key] = {
        last: nullToNaN(row.last),
        lastStep: row.last_step,
        lastWall: row.last_wall,
        min: nullToNaN(row.min),
        max: nullToNaN(row.max),
        count: row.count,
        nonfinite: row.nonfinite,
      };
    }
    return out;
  }

  /** Raw points in [from, to]. */
  series(runId: number, key: string, from = -Infinity, to = Infinity): SeriesPoint[] {
    const keyId = this.keyId(key, false);
    if (keyId === undefined) return [];
    return (this.s.raw.all(runId, keyId, clampStep(from), clampStep(to)) as RawRow[]).map((r) => ({
      step: r.step,
      wall: r.wall,
      value: nullToNaN(r.value),
    }));
  }

  /**
   * A min/max envelope of at most `buckets` buckets over [from, to]. Whole rollup buckets cover the
   * middle of the range; only the partial edges are read from raw points, so the cost depends on
   * the bucket count, not the series length.
   */
  envelope(runId: number, key: string, buckets: number, from?: number, to?: number): Envelope {
    const keyId = this.keyId(key, false);
    const empty: Envelope = { key, from: from ?? 0, to: to ?? 0, width: 1, source: 'raw', buckets: [] };
    if (keyId === undefined) return empty;
    const first = (this.s.firstStep.get(runId, keyId) as number | null) ?? null;
    const last = (this.s.lastStep.get(runId, keyId) as number | null) ?? null;
    if (first === null || last === null) return empty;
    const lo = Math.max(from ?? first, first);
    const hi = Math.min(to ?? last, last);
    if (hi < lo) return { ...empty, from: lo, to: hi };
    const count = Math.max(1, Math.floor(buckets));
    // One tier below the ideal width: output buckets then lose at most a third of their count to
    // alignment, for about 2 rollup rows read per bucket.
    const tier = Math.min(MAX_TIER, Math.floor(Math.log2(Math.max(1, (hi - lo + 1) / count))) - 1);
    const useTier = tier >= MIN_TIER;
    // Output buckets are whole multiples of the tier's bucket and aligned to it, so every rollup
    // row falls inside one output bucket; only the two partial edges are read from raw points.
    const size = useTier ? 2 ** tier : 1;
    const origin = Math.floor(lo / size) * size;
    const width = Math.ceil((hi - origin + 1) / count / size) * size;
    const out = new Map<number, Partial>();
    const at = (step: number): Partial => {
      const index = Math.floor((step - origin) / width);
      let p = out.get(index);
      if (!p) out.set(index, (p = emptyPartial()));
      return p;
    };
    const addRaw = (a: number, b: number) => {
      if (b < a) return;
      for (const r of this.s.raw.iterate(runId, keyId, a, b) as IterableIterator<RawRow>) {
        accumulate(at(r.step), r.step, r.wall, nullToNaN(r.value));
      }
    };
    let source: Envelope['source'] = 'raw';
    const firstWhole = Math.ceil(lo / size);
    const lastWhole = Math.floor((hi + 1) / size) - 1;
    if (!useTier || lastWhole < firstWhole) {
      addRaw(lo, hi);
    } else {
      source = `tier${tier}`;
      addRaw(lo, firstWhole * size - 1);
      for (const r of this.s.tier.iterate(runId, keyId, tier, firstWhole, lastWhole) as IterableIterator<TierRow>) {
        merge(at(r.bucket * size), r);
      }
      addRaw((lastWhole + 1) * size, hi);
    }
    const result: EnvelopeBucket[] = [...out.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([index, p]) => ({
        start: Math.max(lo, origin + index * width),
        end: Math.min(hi, origin + (index + 1) * width - 1),
        min: p.count ? p.min : NaN,
        max: p.count ? p.max : NaN,
        mean: p.count ? p.sum / p.count : NaN,
        last: nullToNaN(p.last),
        lastStep: p.lastStep,
        lastWall: p.lastWall,
        count: p.count + p.nonfinite,
        nonfinite: p.nonfinite,
      }));
    return { key, from: lo, to: hi, width, source, buckets: result };
  }
}

function merge(p: Partial, r: TierRow): void {
  if (r.min !== null && r.min < p.min) p.min = r.min;
  if (r.max !== null && r.max > p.max) p.max = r.max;
  p.sum += r.sum;
  p.count += r.count;
  p.nonfinite += r.nonfinite;
  if (r.last_step >= p.lastStep) {
    p.last = r.last;
    p.lastStep = r.last_step;
    p.lastWall = r.last_wall;
  }
}

const clampStep = (x: number): number => Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, x));

interface RawRow {
  step: number;
  wall: number;
  value: number | null;
}
interface TierRow {
  bucket: number;
  min: number | null;
  max: number | null;
  sum: number;
  count: number;
  nonfinite: number;
  last: number | null;
  last_step: number;
  last_wall: number;
}
interface SummaryRow {
  key: string;
  last: number | null;
  last_step: number;
  last_wall: number;
  min: number | null;
  max: number | null;
  count: number;
  nonfinite: number;
}
