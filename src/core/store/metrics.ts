import { change } from './changes.ts';
import type { Connection } from './connection.ts';
import type { Statement } from './db.ts';
import type { Envelope, EnvelopeBucket, MetricPoint, MetricSummary, SeriesPoint } from './types.ts';

/** Rollup tiers: bucket widths 2^6 … 2^24 steps. Below 64 steps per bucket raw points are cheap. */
export const MIN_TIER = 6;
export const MAX_TIER = 24;
const TIER_COUNT = MAX_TIER - MIN_TIER + 1;

/**
 * Merges a stored summary row `r` with a new partial (`excluded`), for both the per-run summaries
 * and the rollup buckets: min/max over finite values (NULL when none), counts added, and the last
 * value taken from whichever holds the higher step.
 */
const MERGE_SUMMARY = `
  min = min(coalesce(r.min, excluded.min), coalesce(excluded.min, r.min)),
  max = max(coalesce(r.max, excluded.max), coalesce(excluded.max, r.max)),
  count = r.count + excluded.count,
  nonfinite = r.nonfinite + excluded.nonfinite,
  last = CASE WHEN excluded.last_step >= r.last_step THEN excluded.last ELSE r.last END,
  last_wall = CASE WHEN excluded.last_step >= r.last_step THEN excluded.last_wall ELSE r.last_wall END,
  last_step = max(r.last_step, excluded.last_step)`;

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

function mergePartial(p: Partial, q: Partial): void {
  if (q.min < p.min) p.min = q.min;
  if (q.max > p.max) p.max = q.max;
  p.sum += q.sum;
  p.count += q.count;
  p.nonfinite += q.nonfinite;
  if (q.lastStep >= p.lastStep) {
    p.last = q.last;
    p.lastStep = q.lastStep;
    p.lastWall = q.lastWall;
  }
}

/**
 * Rows per multi-row INSERT of points that cannot be stored yet: one statement call per 64 rows,
 * since a call's own cost (binding, stepping, resetting) was as large as SQLite's work per row.
 */
const ROWS_PER_INSERT = 64;
const COLUMNS = 5;

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const nullToNaN = (x: number | null): number => (x === null ? NaN : x);

/** Batched metric ingest and envelope reads over the raw table and its rollup tiers. */
export class MetricStore {
  private readonly keyIds = new Map<string, number>();
  private readonly wallBases = new Map<number, number>();
  /** The rows of one multi-row INSERT, reused from batch to batch. */
  private readonly queue = new Array<number | null>(ROWS_PER_INSERT * COLUMNS);
  private readonly s: Record<string, Statement>;
  private readonly sql: Connection;
  private readonly keys: () => Statement;
  private readonly deletions: (() => Statement)[];
  private readonly seriesDeletions: (() => Statement)[];
  /** Statements that read schema 3's `replaced`, prepared on first use (a test may open an older schema). */
  private readonly later;

  constructor(sql: Connection) {
    this.sql = sql;
    // A key created in a transaction that rolled back (a full disk, say) no longer exists, and a
    // cached id would file later points under no name.
    sql.onRollback(() => this.keyIds.clear());
    this.keys = sql.lazy('SELECT name FROM metric_keys ORDER BY name', (s) => s.pluck());
    this.deletions = [sql.lazy('DELETE FROM metrics WHERE run_id = ?'), sql.lazy('DELETE FROM metric_rollups WHERE run_id = ?')];
    this.seriesDeletions = ['metrics', 'metric_rollups', 'metric_summaries'].map((table) => sql.lazy(`DELETE FROM ${table} WHERE run_id = ? AND key_id = ?`));
    this.later = {
      summaries: sql.lazy(`
        SELECT k.name AS key, s.last, s.last_step, s.last_wall, s.min, s.max, s.count, s.nonfinite, s.replaced
        FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ? ORDER BY k.name`),
      // A value equal to the stored one changes nothing, so re-reading a log after a crash is no replacement.
      replace: sql.lazy('UPDATE metrics SET wall = ?, value = ? WHERE run_id = ? AND key_id = ? AND step = ? AND value IS NOT ?'),
      setRollup: sql.lazy(`
        INSERT OR REPLACE INTO metric_rollups (run_id, key_id, tier, bucket, min, max, sum, count, nonfinite, last, last_step, last_wall)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      setSummary: sql.lazy(`
        UPDATE metric_summaries SET last = ?, last_step = ?, last_wall = ?, min = ?, max = ?, count = ?, nonfinite = ?, replaced = replaced + ?
        WHERE run_id = ? AND key_id = ?`),
      topTier: sql.lazy(
        `SELECT bucket, min, max, sum, count, nonfinite, last, last_step, last_wall FROM metric_rollups WHERE run_id = ? AND key_id = ? AND tier = ${MAX_TIER}`,
        (s) => s.raw(true),
      ),
    };
    this.s = {
      keyId: sql.prepare('SELECT id FROM metric_keys WHERE name = ?').pluck(),
      createdAt: sql.prepare('SELECT created_at FROM runs WHERE id = ?').pluck(),
      addKey: sql.prepare('INSERT INTO metric_keys (name) VALUES (?)'),
      insert: sql.prepare('INSERT OR IGNORE INTO metrics (run_id, key_id, step, wall, value) VALUES (?, ?, ?, ?, ?)', false),
      insertMany: sql.prepare(`INSERT INTO metrics (run_id, key_id, step, wall, value) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`, false),
      highestStep: sql.prepare('SELECT max(step) FROM metrics WHERE run_id = ? AND key_id = ?', false).pluck(),
      rollup: sql.prepare(`
        INSERT INTO metric_rollups AS r (run_id, key_id, tier, bucket, min, max, sum, count, nonfinite, last, last_step, last_wall)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET sum = r.sum + excluded.sum, ${MERGE_SUMMARY}`, false),
      summary: sql.prepare(`
        INSERT INTO metric_summaries AS r (run_id, key_id, last, last_step, last_wall, min, max, count, nonfinite)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET ${MERGE_SUMMARY}`),
      firstStep: sql.prepare('SELECT min(step) FROM metrics WHERE run_id = ? AND key_id = ?').pluck(),
      lastStep: sql.prepare('SELECT max(step) FROM metrics WHERE run_id = ? AND key_id = ?').pluck(),
      // Rows as arrays, not objects: reading is the envelope's whole cost.
      raw: sql
        .prepare('SELECT step, wall, value FROM metrics WHERE run_id = ? AND key_id = ? AND step BETWEEN ? AND ? ORDER BY step')
        .raw(true),
      tier: sql
        .prepare(`SELECT bucket, min, max, sum, count, nonfinite, last, last_step, last_wall FROM metric_rollups
          WHERE run_id = ? AND key_id = ? AND tier = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`)
        .raw(true),
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

  /** Walls are stored relative to the run's creation (run ids are never reused, so this caches). */
  private wallBase(runId: number): number {
    let base = this.wallBases.get(runId);
    if (base === undefined) {
      base = (this.s.createdAt.get(runId) as number | undefined) ?? 0;
      this.wallBases.set(runId, base);
    }
    return base;
  }

  /**
   * Stores points in one transaction and maintains summaries and rollups. The last value logged
   * for a (run, key, step) wins, as a training loop restarted from a checkpoint logs its steps
   * again: a different value replaces the stored one and is counted in the summary's `replaced`;
   * the same value again changes nothing, so re-ingesting a file after a crash never duplicates.
   * Returns how many points were new.
   */
  log(runId: number, points: readonly MetricPoint[]): number {
    if (points.length === 0) return 0;
    const { inserted, replaced } = this.sql.transaction(() => this.logInTransaction(runId, points));
    if (inserted > 0 || replaced > 0) this.sql.emit(change({ metrics: [runId] }));
    return inserted;
  }

  /** Points and rollups of a deleted run (no foreign keys there: they would cost a lookup per point). */
  deleteRun(runId: number): void {
    for (const statement of this.deletions) statement().run(runId);
  }

  /** One series of a run, its points, rollups and summary; false when it had none. */
  deleteSeries(runId: number, key: string): boolean {
    const keyId = this.keyId(key, false);
    if (keyId === undefined) return false;
    const deleted = this.sql.transaction(() => this.seriesDeletions.reduce((rows, statement) => rows + statement().run(runId, keyId).changes, 0));
    if (deleted > 0) this.sql.emit(change({ metrics: [runId] }));
    return deleted > 0;
  }

  /** Metric names recorded anywhere, for sort and filter pickers. */
  names(): string[] {
    return this.keys().all() as string[];
  }

  private logInTransaction(runId: number, points: readonly MetricPoint[]): { inserted: number; replaced: number } {
    const base = this.wallBase(runId);
    const now = Date.now() - base;
    // Per key: its summary and one open bucket per tier. A point is added to the finest tier only;
    // a bucket that closes is written and merged into the tier above, so each point costs one
    // accumulate, not one per tier. Out-of-order points just close buckets early: the upsert
    // merges them with what is stored.
    const open = new Map<number, { summary: Partial; buckets: number[]; partials: Partial[] }>();
    const close = (keyId: number, state: { buckets: number[]; partials: Partial[] }, t: number) => {
      const bucket = state.buckets[t]!;
      if (Number.isNaN(bucket)) return;
      const p = state.partials[t]!;
      this.s.rollup.run(runId, keyId, MIN_TIER + t, bucket, finiteOrNull(p.min), finiteOrNull(p.max), p.sum, p.count, p.nonfinite, p.last, p.lastStep, p.lastWall);
      if (t + 1 < TIER_COUNT) {
        const parent = Math.floor(bucket / 2);
        if (state.buckets[t + 1] !== parent) {
          close(keyId, state, t + 1);
          state.buckets[t + 1] = parent;
          state.partials[t + 1] = emptyPartial();
        }
        mergePartial(state.partials[t + 1]!, p);
      }
      state.buckets[t] = NaN;
    };
    let inserted = 0;
    // Steps already stored, in arrival order: applied once this batch's new points are written.
    const again: { keyId: number; step: number; wall: number; value: number | null }[] = [];
    // A point past every step stored for its key and every earlier step of this batch cannot be
    // stored yet: such points are queued for multi-row INSERTs. Any other point is tried alone
    // (after the queue), so that a step stored before is noticed. The transaction keeps other
    // writers out between the look-up of the highest step and the inserts.
    const highest = new Map<number, number>();
    const queue = this.queue;
    let queued = 0;
    const writeQueued = () => {
      for (let i = 0; i < queued; i += COLUMNS) this.s.insert.run(queue[i], queue[i + 1], queue[i + 2], queue[i + 3], queue[i + 4]);
      queued = 0;
    };
    for (const point of points) {
      const keyId = this.keyId(point.key)!;
      const wall = point.wall === undefined ? now : Math.round(point.wall - base);
      const value = point.value;
      const step = point.step;
      const stored = Number.isNaN(value) ? null : value;
      let above = highest.get(keyId);
      if (above === undefined) above = (this.s.highestStep.get(runId, keyId) as number | null) ?? -Infinity;
      if (step > above) {
        highest.set(keyId, step);
        queue[queued++] = runId;
        queue[queued++] = keyId;
        queue[queued++] = step;
        queue[queued++] = wall;
        queue[queued++] = stored;
        if (queued === queue.length) {
          // Spread, not the array: better-sqlite3 binds arguments faster than array items (329 vs 497 ns a row here).
          this.s.insertMany.run(...queue);
          queued = 0;
        }
      } else {
        highest.set(keyId, above);
        writeQueued();
        if (this.s.insert.run(runId, keyId, step, wall, stored).changes === 0) {
          again.push({ keyId, step, wall, value: stored });
          continue;
        }
      }
      inserted++;
      let state = open.get(keyId);
      if (!state) {
        state = { summary: emptyPartial(), buckets: new Array<number>(TIER_COUNT).fill(NaN), partials: Array.from({ length: TIER_COUNT }, emptyPartial) };
        open.set(keyId, state);
      }
      accumulate(state.summary, step, wall, value);
      const bucket = Math.floor(step / 2 ** MIN_TIER);
      if (bucket !== state.buckets[0]) {
        close(keyId, state, 0);
        state.buckets[0] = bucket;
        state.partials[0] = emptyPartial();
      }
      accumulate(state.partials[0]!, step, wall, value);
    }
    writeQueued();
    for (const [keyId, state] of open) {
      const p = state.summary;
      this.s.summary.run(runId, keyId, p.last, p.lastStep, p.lastWall, finiteOrNull(p.min), finiteOrNull(p.max), p.count + p.nonfinite, p.nonfinite);
      for (let t = 0; t < TIER_COUNT; t++) close(keyId, state, t);
    }
    return { inserted, replaced: again.length ? this.replace(runId, again) : 0 };
  }

  /**
   * Overwrites stored points with their new values. Min and max cannot be un-merged, so each
   * touched finest bucket is recomputed from its raw points (at most 2^MIN_TIER), each coarser
   * bucket from its two children, and the summary from the coarsest tier: exact, and the cost
   * depends on the buckets touched, not the series length. Returns how many points changed.
   */
  private replace(runId: number, again: readonly { keyId: number; step: number; wall: number; value: number | null }[]): number {
    const touched = new Map<number, { replaced: number; buckets: Set<number> }>();
    for (const { keyId, step, wall, value } of again) {
      if (this.later.replace().run(wall, value, runId, keyId, step, value).changes === 0) continue;
      let key = touched.get(keyId);
      if (!key) touched.set(keyId, (key = { replaced: 0, buckets: new Set() }));
      key.replaced++;
      key.buckets.add(Math.floor(step / 2 ** MIN_TIER));
    }
    let replaced = 0;
    for (const [keyId, { replaced: count, buckets }] of touched) {
      replaced += count;
      let level = buckets;
      for (let t = 0; t < TIER_COUNT; t++) {
        const parents = new Set<number>();
        for (const bucket of level) {
          const p = emptyPartial();
          if (t === 0) {
            const size = 2 ** MIN_TIER;
            for (const [step, wall, value] of this.s.raw.all(runId, keyId, bucket * size, bucket * size + size - 1) as RawRow[]) {
              accumulate(p, step, wall, nullToNaN(value));
            }
          } else {
            for (const row of this.s.tier.all(runId, keyId, MIN_TIER + t - 1, bucket * 2, bucket * 2 + 1) as TierRow[]) merge(p, row);
          }
          this.later.setRollup().run(runId, keyId, MIN_TIER + t, bucket, finiteOrNull(p.min), finiteOrNull(p.max), p.sum, p.count, p.nonfinite, p.last, p.lastStep, p.lastWall);
          parents.add(Math.floor(bucket / 2));
        }
        level = parents;
      }
      const s = emptyPartial();
      for (const row of this.later.topTier().all(runId, keyId) as TierRow[]) merge(s, row);
      this.later.setSummary().run(s.last, s.lastStep, s.lastWall, finiteOrNull(s.min), finiteOrNull(s.max), s.count + s.nonfinite, s.nonfinite, count, runId, keyId);
    }
    return replaced;
  }

  summaries(runId: number): Record<string, MetricSummary> {
    const base = this.wallBase(runId);
    // fromEntries defines each name as an own property, so `__proto__` is a metric like any other.
    return Object.fromEntries(
      (this.later.summaries().all(runId) as SummaryRow[]).map((row) => [
        row.key,
        {
          last: nullToNaN(row.last),
          lastStep: row.last_step,
          lastWall: row.last_wall + base,
          min: nullToNaN(row.min),
          max: nullToNaN(row.max),
          count: row.count,
          nonfinite: row.nonfinite,
          replaced: row.replaced,
        },
      ]),
    );
  }

  /** Raw points in [from, to]. */
  series(runId: number, key: string, from = -Infinity, to = Infinity): SeriesPoint[] {
    const keyId = this.keyId(key, false);
    if (keyId === undefined) return [];
    const base = this.wallBase(runId);
    return (this.s.raw.all(runId, keyId, clampStep(from), clampStep(to)) as RawRow[]).map(([step, wall, value]) => ({
      step,
      wall: wall + base,
      value: nullToNaN(value),
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
    // The largest tier not wider than the ideal bucket: about 2 rollup rows read per output bucket,
    // and between half and all of the buckets asked for once aligned.
    const tier = Math.min(MAX_TIER, Math.floor(Math.log2(Math.max(1, (hi - lo + 1) / count))));
    const useTier = tier >= MIN_TIER;
    // Output buckets are whole multiples of the tier's bucket and aligned to it, so every rollup
    // row falls inside one output bucket; only the two partial edges are read from raw points.
    const size = useTier ? 2 ** tier : 1;
    const origin = Math.floor(lo / size) * size;
    const width = Math.ceil((hi - origin + 1) / count / size) * size;
    // Output buckets in step order; a sparse array, as a series may have gaps.
    const out: Partial[] = [];
    const at = (step: number): Partial => (out[Math.floor((step - origin) / width)] ??= emptyPartial());
    const addRaw = (a: number, b: number) => {
      if (b < a) return;
      for (const [step, wall, value] of this.s.raw.all(runId, keyId, a, b) as RawRow[]) {
        accumulate(at(step), step, wall, nullToNaN(value));
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
      for (const row of this.s.tier.all(runId, keyId, tier, firstWhole, lastWhole) as TierRow[]) {
        merge(at(row[0] * size), row);
      }
      addRaw((lastWhole + 1) * size, hi);
    }
    const result: EnvelopeBucket[] = [];
    out.forEach((p, index) =>
      result.push({
        start: Math.max(lo, origin + index * width),
        end: Math.min(hi, origin + (index + 1) * width - 1),
        min: p.count ? p.min : NaN,
        max: p.count ? p.max : NaN,
        mean: p.count ? p.sum / p.count : NaN,
        last: nullToNaN(p.last),
        lastStep: p.lastStep,
        lastWall: p.lastWall + this.wallBase(runId),
        count: p.count + p.nonfinite,
        nonfinite: p.nonfinite,
      }),
    );
    return { key, from: lo, to: hi, width, source, buckets: result };
  }
}

function merge(p: Partial, [, min, max, sum, count, nonfinite, last, lastStep, lastWall]: TierRow): void {
  if (min !== null && min < p.min) p.min = min;
  if (max !== null && max > p.max) p.max = max;
  p.sum += sum;
  p.count += count;
  p.nonfinite += nonfinite;
  if (lastStep >= p.lastStep) {
    p.last = last;
    p.lastStep = lastStep;
    p.lastWall = lastWall;
  }
}

const clampStep = (x: number): number => Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, x));

/** step, wall, value */
type RawRow = [number, number, number | null];
/** bucket, min, max, sum, count, nonfinite, last, last_step, last_wall */
type TierRow = [number, number | null, number | null, number, number, number, number | null, number, number];
interface SummaryRow {
  key: string;
  last: number | null;
  last_step: number;
  last_wall: number;
  min: number | null;
  max: number | null;
  count: number;
  nonfinite: number;
  replaced: number;
}
