import { own } from '../own.ts';
import type { Direction } from '../../shared/compareProtocol.ts';

/** Names whose metric is better low: loss, error, mse, mae, rmse, perplexity (any case, anywhere in the name). */
const LOWER_IS_BETTER = /loss|error|mse|mae|perplexity/i;

/** A guess from the name: `val_loss` → min, `accuracy` → max. Users override it per metric. */
export function guessDirection(metric: string): Direction {
  return LOWER_IS_BETTER.test(metric) ? 'min' : 'max';
}

/** The direction of each metric: the override when given, else the guess. */
export function directionsFor(metrics: readonly string[], overrides: Record<string, Direction> = {}): Record<string, Direction> {
  return Object.fromEntries(
    metrics.map((m) => {
      const override = own(overrides, m);
      return [m, override === 'min' || override === 'max' ? override : guessDirection(m)];
    }),
  );
}

/** True when `a` is better than `b` in `direction`; NaN is never better. */
export function better(a: number, b: number, direction: Direction): boolean {
  if (!Number.isFinite(a)) return false;
  if (!Number.isFinite(b)) return true;
  return direction === 'min' ? a < b : a > b;
}
