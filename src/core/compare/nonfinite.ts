import type { Store } from '../store/store.ts';
import type { MetricSummary } from '../store/types.ts';
import type { NonFinitePoint } from './constants.ts';

const SEARCH_BUCKETS = 256;

/** Where a series first went NaN or ±Infinity; undefined when it never did (read only then). */
export function firstNonFinite(store: Store, runId: number, metric: string, summary: MetricSummary): NonFinitePoint | undefined {
  if (summary.nonfinite === 0) return undefined;
  // The envelope's counts find the first bucket holding one (from the rollups, without reading a
  // long series whole); only that bucket's raw points are read.
  const bucket = store.envelope(runId, metric, SEARCH_BUCKETS).buckets.find((b) => b && b.nonfinite > 0);
  if (!bucket) return undefined;
  const point = store.series(runId, metric, bucket.start, bucket.end).find((p) => !Number.isFinite(p.value));
  return point ? { step: point.step, value: String(point.value) as NonFinitePoint['value'] } : undefined;
}

