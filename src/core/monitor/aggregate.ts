import { bucketOfLatency, upperBound, type CategoricalAggregate, type FeatureAggregate, type MonitorProfile, type NumericAggregate, type ServedRow, type WindowRecord } from './files.ts';

/** Windows and raw rows summed into the same counts the server keeps per window. */
export interface Aggregate {
  rows: number;
  requests: number;
  errors: number;
  from: number | null;
  to: number | null;
  latency: Map<number, number>;
  /** Null before the reference exists (a baseline still being collected). */
  features: FeatureAggregate[] | null;
  prediction: Map<string, number> | number[] | null;
}

export function emptyAggregate(profile: MonitorProfile | null): Aggregate {
  return {
    rows: 0,
    requests: 0,
    errors: 0,
    from: null,
    to: null,
    latency: new Map(),
    features: profile ? profile.features.map((f): FeatureAggregate => (f.kind === 'numeric' ? [0, 0, 0, null, null, new Array<number>(f.edges.length + 1).fill(0)] : [0, 0, 0, {}])) : null,
    prediction: profile?.prediction ? (profile.prediction.kind === 'classes' ? new Map() : new Array<number>(profile.prediction.edges.length + 1).fill(0)) : null,
  };
}

const lower = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const upper = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

function span(agg: Aggregate, from: number, to: number): void {
  agg.from = lower(agg.from, from);
  agg.to = upper(agg.to, to);
}

/** Adds a closed window's counts (its features only when it has them, i.e. after the reference existed). */
export function addWindow(agg: Aggregate, w: WindowRecord): void {
  agg.rows += w.rows;
  agg.requests += w.requests;
  agg.errors += w.errors;
  if (w.rows > 0 || w.requests > 0) span(agg, w.from, w.to);
  for (const [bucket, n] of Object.entries(w.latency)) addCount(agg.latency, Number(bucket), n);
  if (agg.features && w.features && w.features.length === agg.features.length) {
    agg.features.forEach((target, j) => mergeFeature(target, w.features![j]!));
  }
  if (agg.prediction && w.prediction) {
    if (agg.prediction instanceof Map) {
      for (const [label, n] of Object.entries(w.prediction as Record<string, number>)) addCount(agg.prediction, label, n);
    } else {
      addInto(agg.prediction, w.prediction as number[]);
    }
  }
}

function mergeFeature(target: FeatureAggregate, source: FeatureAggregate): void {
  target[0] += source[0];
  target[1] += source[1];
  target[2] += source[2];
  if (Array.isArray(target[5])) {
    const t = target as NumericAggregate;
    const s = source as NumericAggregate;
    t[3] = lower(t[3], s[3]);
    t[4] = upper(t[4], s[4]);
    addInto(t[5], s[5]);
  } else {
    const counts = (target as CategoricalAggregate)[3];
    for (const [category, n] of Object.entries((source as CategoricalAggregate)[3])) counts[category] = (counts[category] ?? 0) + n;
  }
}

function addInto(target: number[], source: readonly number[]): void {
  for (let i = 0; i < target.length && i < source.length; i++) target[i]! += source[i]!;
}

function addCount<K>(map: Map<K, number>, key: K, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** A prediction or label as the server keys it: integral numbers without ".0", booleans as true/false. */
export function labelKey(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Adds one served row from the ring, binned like the server bins it (rows of the baseline itself are not compared). */
export function addRow(agg: Aggregate, profile: MonitorProfile | null, row: ServedRow): void {
  agg.rows++;
  span(agg, row.t, row.t);
  if (!profile || !agg.features || (profile.lastBaselineId !== null && row.id <= profile.lastBaselineId)) return;
  if (row.x.length !== profile.features.length) return;
  profile.features.forEach((f, j) => {
    const value = row.x[j];
    const a = agg.features![j]!;
    a[0]++;
    if (value === null || value === undefined) {
      a[1]++;
      return;
    }
    if (f.kind === 'numeric') {
      const n = a as NumericAggregate;
      const v = Number(value);
      if ((f.min !== null && v < f.min) || (f.max !== null && v > f.max)) n[2]++;
      n[3] = lower(n[3], v);
      n[4] = upper(n[4], v);
      n[5][upperBound(f.edges, v)]!++;
    } else {
      const c = a as CategoricalAggregate;
      const key = labelKey(value);
      if (!f.categories.includes(key)) c[2]++;
      c[3][key] = (c[3][key] ?? 0) + 1;
    }
  });
  if (agg.prediction instanceof Map) addCount(agg.prediction, labelKey(row.y), 1);
  else if (agg.prediction && profile.prediction?.kind === 'numeric' && typeof row.y === 'number') agg.prediction[upperBound(profile.prediction.edges, row.y)]!++;
}

/** Adds a request of the open window (from the request log). */
export function addRequest(agg: Aggregate, time: number, latencyMs: number, ok: boolean): void {
  agg.requests++;
  if (!ok) agg.errors++;
  span(agg, time, time);
  addCount(agg.latency, bucketOfLatency(latencyMs), 1);
}
