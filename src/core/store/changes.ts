/**
 * What a write changed, precisely enough for a view to refresh only the affected nodes. One shape
 * for every kind, so bursts coalesce by union (see `mergeChanges`) instead of by dropping detail.
 */
export interface StoreChange {
  /** Runs created, or whose record changed (status, times, name, params, tags, artifacts, inputs). */
  readonly runs: readonly number[];
  /** Runs that received metric points and nothing else. */
  readonly metrics: readonly number[];
  readonly deletedRuns: readonly number[];
  /** Registered model names whose versions or aliases changed. */
  readonly models: readonly string[];
  /** Deployments created or changed. */
  readonly deployments: readonly number[];
  /** The change could not be narrowed (for example another process rewrote the file): refresh everything. */
  readonly everything?: boolean;
}

export const NO_CHANGE: StoreChange = { runs: [], metrics: [], deletedRuns: [], models: [], deployments: [] };

export function change(parts: Partial<StoreChange>): StoreChange {
  return { ...NO_CHANGE, ...parts };
}

export function isEmptyChange(c: StoreChange): boolean {
  return !c.everything && c.runs.length + c.metrics.length + c.deletedRuns.length + c.models.length + c.deployments.length === 0;
}

/** The union of two changes; a run whose record changed is not listed again under `metrics`. */
export function mergeChanges(a: StoreChange, b: StoreChange): StoreChange {
  const union = <T>(x: readonly T[], y: readonly T[]): T[] => (y.length === 0 ? [...x] : x.length === 0 ? [...y] : [...new Set([...x, ...y])]);
  const runs = union(a.runs, b.runs);
  const recorded = new Set(runs);
  return {
    runs,
    metrics: union(a.metrics, b.metrics).filter((id) => !recorded.has(id)),
    deletedRuns: union(a.deletedRuns, b.deletedRuns),
    models: union(a.models, b.models),
    deployments: union(a.deployments, b.deployments),
    ...(a.everything || b.everything ? { everything: true } : {}),
  };
}
