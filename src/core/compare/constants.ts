// The compare panel's limits, axes and shared vocabulary: the core enforces them, and src/shared/compareProtocol.ts
// passes them on to the webview. They live here because the core may not import values from
// src/shared, while the protocol may import from the core (this file imports nothing, so the
// webview bundle stays free of Node code).

/** What the x axis shows. `relative` is seconds since the run started, `wall` epoch ms. */
export const X_AXES = ['step', 'relative', 'wall', 'epoch'] as const;

export const DEFAULT_POINTS = 2000;
/** Never more than this many points per series, whatever the webview asks. */
export const MAX_POINTS = 4000;

/** The group of runs that lack the group-by param. */
export const NO_GROUP = '(none)';

/** Group-by values in display order (numerically when every one is a number): colors follow it on both sides. */
export function orderGroups(keys: Iterable<string>): string[] {
  const list = [...new Set(keys)];
  const numeric = list.every((k) => k !== NO_GROUP && Number.isFinite(Number(k)));
  return list.sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)));
}

/** Runs that ended badly: never ranked best, and marked apart. */
export const FAILED_STATUSES: readonly string[] = ['failed', 'crashed', 'killed'];

/** The first NaN or ±Infinity of a series, as text (JSON carries neither). */
export interface NonFinitePoint {
  step: number;
  value: 'NaN' | 'Infinity' | '-Infinity';
}

/** `loss went NaN at step 15`. */
export const describeNonFinite = (metric: string, point: NonFinitePoint): string =>
  `${metric} went ${point.value === 'Infinity' ? '+Infinity' : point.value} at step ${point.step}`;
