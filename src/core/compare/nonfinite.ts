import type { Store } from '../store/store.ts';
import type { MetricSummary } from '../store/types.ts';
import type { NonFinitePoint } from './constants.ts';

/** Where a series first went NaN or ±Infinity; undefined when it never did (read only then). */
export function firstNonFinite(store: Store, runId: number, metric: string, summary: MetricSummary): NonFinitePoint | undefined {
  if (summary.nonfinite === 0) return undefined;
  const point = store.series(runId, metric).find((p) => !Number.isFinite(p.value));
  return point ? { step: point.step, value: String(point.value) as NonFinitePoint['value'] } : undefined;
}

