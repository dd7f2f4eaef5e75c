import { readEnd } from '../io/tail.ts';

/** One line of a deployment's request log, as the model server writes it. */
export interface RequestRecord {
  time: number;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  batch: number;
  inputs?: number[][];
  inputs_truncated?: boolean;
  /** The monitoring window the request was counted in (servers with monitoring on). */
  window?: number;
}

export interface RequestStats {
  /** Prediction requests (health checks are not counted). */
  requests: number;
  /** Answered with status >= 400 (bad input, wrong token, model failure). */
  errors: number;
  /** errors / requests; 0 with no requests. */
  errorRate: number;
  /** Of all prediction requests, in milliseconds; null with no requests. */
  p50: number | null;
  p95: number | null;
  /** Rows predicted in successful requests. */
  rows: number;
  lastAt: number | null;
  /** Lines that were not valid records (e.g. a partial last line). */
  skipped: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Reads the last `maxBytes` of a log: recent traffic is what a dashboard shows, and the file only grows. */
export function readRecords(file: string, options: { sinceMs?: number; maxBytes?: number } = {}): { records: RequestRecord[]; skipped: number } {
  const end = readEnd(file, options.maxBytes ?? 16 * 1024 * 1024);
  if (!end) return { records: [], skipped: 0 };
  const lines = end.text.split('\n');
  const records: RequestRecord[] = [];
  let skipped = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RequestRecord;
      if (typeof r.time !== 'number' || typeof r.status !== 'number' || typeof r.latency_ms !== 'number') throw new Error('not a record');
      if (options.sinceMs === undefined || r.time >= options.sinceMs) records.push(r);
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

/** Requests, error rate and p50/p95 latency of a deployment's predictions. */
export function requestStats(file: string, options: { sinceMs?: number; maxBytes?: number } = {}): RequestStats {
  const { records, skipped } = readRecords(file, options);
  const predictions = records.filter((r) => r.path === '/predict');
  const errors = predictions.filter((r) => r.status >= 400).length;
  const latencies = predictions.map((r) => r.latency_ms).sort((a, b) => a - b);
  return {
    requests: predictions.length,
    errors,
    errorRate: predictions.length ? errors / predictions.length : 0,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    rows: predictions.filter((r) => r.status < 400).reduce((n, r) => n + r.batch, 0),
    lastAt: predictions.reduce<number | null>((last, r) => (last === null || r.time > last ? r.time : last), null),
    skipped,
  };
}
