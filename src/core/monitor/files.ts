import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReferenceSource } from './report.ts';

/**
 * Reads what the model server keeps in a deployment's `monitor/` folder (written only by
 * src/python/runboard_server/monitoring.py, whose docstring describes the files). Read only.
 */

export interface NumericProfile {
  name: string;
  kind: 'numeric';
  /** Inner edges of the 40 reference quantile bins; value v is in bin upperBound(edges, v). */
  edges: number[];
  /** The decile edges among them, for PSI and histograms. */
  coarse: number[];
  reference: number[];
  min: number | null;
  max: number | null;
  missing: number;
}

export interface CategoricalProfile {
  name: string;
  kind: 'categorical';
  categories: string[];
  reference: number[];
  missing: number;
}

export type FeatureProfile = NumericProfile | CategoricalProfile;

export type PredictionProfile = { kind: 'classes'; labels: string[]; reference: number[] } | { kind: 'numeric'; edges: number[]; coarse: number[]; reference: number[] };

export interface MonitorProfile {
  source: ReferenceSource;
  rows: number;
  createdAt: number;
  baselineRows: number | null;
  /** Rows with an id up to this one are the baseline itself, not compared with it. */
  lastBaselineId: number | null;
  task: 'classification' | 'regression';
  features: FeatureProfile[];
  prediction: PredictionProfile | null;
}

/** Numeric: [count, missing, outOfRange, min, max, fine bin counts]; categorical: [count, missing, unseen, {category: count}]. */
export type NumericAggregate = [number, number, number, number | null, number | null, number[]];
export type CategoricalAggregate = [number, number, number, Record<string, number>];
export type FeatureAggregate = NumericAggregate | CategoricalAggregate;

/** One closed window, as a line of windows.jsonl. */
export interface WindowRecord {
  index: number;
  from: number;
  to: number;
  firstId: number | null;
  lastId: number | null;
  rows: number;
  requests: number;
  errors: number;
  /** Latency histogram: bucket k → requests (see `latencyOfBucket`). */
  latency: Record<string, number>;
  features: FeatureAggregate[] | null;
  /** Class → count, or counts on the prediction profile's fine bins. */
  prediction: Record<string, number> | number[] | null;
}

export interface ServedRow {
  id: number;
  t: number;
  x: (number | string | null)[];
  y: unknown;
  p?: number[];
}

export interface FeedbackRecord {
  id: number;
  t: number;
  label: unknown;
  prediction: unknown;
}

/** Latency buckets of the server: bucket k is [0.01 · 1.05^k, 0.01 · 1.05^(k+1)) ms; its geometric middle stands for it. */
export const latencyOfBucket = (k: number): number => 0.01 * 1.05 ** (k + 0.5);
export const bucketOfLatency = (ms: number): number => Math.floor(Math.log(Math.max(ms, 0.01) / 0.01) / Math.log(1.05));

/** Index of the first edge greater than `value` (Python's bisect_right): the bin the server put it in. */
export function upperBound(edges: readonly number[], value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (edges[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

export const monitorFiles = (dir: string) => ({
  profile: join(dir, 'profile.json'),
  windows: join(dir, 'windows.jsonl'),
  rows: join(dir, 'rows.jsonl'),
  feedback: join(dir, 'feedback.jsonl'),
});

export function readProfile(dir: string): MonitorProfile | null {
  const file = monitorFiles(dir).profile;
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as MonitorProfile;
}

/** Whole lines of a capped file and its older part (`.1`), oldest first; a line being written is skipped. */
function readLines<T>(file: string, withOlder: boolean): T[] {
  const out: T[] = [];
  for (const part of withOlder ? [`${file}.1`, file] : [file]) {
    if (!existsSync(part)) continue;
    const text = readFileSync(part, 'utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) continue;
    for (const line of text.slice(0, end).split('\n')) {
      if (line) out.push(JSON.parse(line) as T);
    }
  }
  return out;
}

export const readWindows = (dir: string): WindowRecord[] => readLines<WindowRecord>(monitorFiles(dir).windows, true);

export const readFeedback = (dir: string): FeedbackRecord[] => readLines<FeedbackRecord>(monitorFiles(dir).feedback, true);

/**
 * Served rows with an id above `afterId`, oldest first: the newer ring file, and the older one only
 * when the newer one starts past `afterId + 1`.
 */
export function readRows(dir: string, afterId = 0): ServedRow[] {
  const file = monitorFiles(dir).rows;
  const recent = readLines<ServedRow>(file, false);
  const needOlder = recent.length === 0 || recent[0]!.id > afterId + 1;
  const rows = needOlder ? readLines<ServedRow>(file, true) : recent;
  return rows.filter((r) => r.id > afterId);
}
