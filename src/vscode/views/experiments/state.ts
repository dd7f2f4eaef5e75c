import { COMPARISONS, type Comparison, type RunQuery } from '../../../core/store/runQuery.ts';
import { RUN_STATUSES, type RunStatus } from '../../../core/store/types.ts';

export interface RunFilterState {
  statuses?: RunStatus[];
  /** Part of the run's name, or its id. */
  text?: string;
  param?: { key: string; value: string };
  metric?: { key: string; op: Comparison; value: number };
}

export const SORT_KEYS = ['created', 'name', 'status', 'duration', 'metric'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortState {
  by: SortKey;
  /** The metric sorted by (its last value), when `by` is metric. */
  metric?: string;
  descending: boolean;
}

export interface ViewState {
  filter: RunFilterState;
  sort: SortState;
}

export const DEFAULT_SORT: SortState = { by: 'created', descending: true };

/**
 * The core's query for one experiment's page as the view shows it. The saved state keeps its own
 * shape (older workspaces hold it), so it is mapped here rather than stored as a RunQuery.
 */
export function runQuery(state: ViewState, experiment: string, page: { limit: number; offset: number }): RunQuery {
  const { sort } = state;
  return {
    experiment,
    // A sweep's runs are listed under the sweep, not again beside it (the sweep matches when one of them does).
    topLevelOnly: true,
    ...filterConditions(state.filter),
    sort: sort.by === 'metric' ? { by: 'metric', key: sort.metric, descending: sort.descending } : { by: sort.by, descending: sort.descending },
    ...page,
  };
}

/** A sweep's runs that match the filter, oldest first (all of them: a sweep is not paged). */
export function sweepRunsQuery(state: ViewState, parentId: number): RunQuery {
  return { parentId, ...filterConditions(state.filter), sort: { by: 'created', descending: false }, limit: -1, offset: 0 };
}

function filterConditions(filter: RunFilterState): Pick<RunQuery, 'statuses' | 'text' | 'params' | 'metrics'> {
  return {
    ...(filter.statuses?.length ? { statuses: filter.statuses } : {}),
    ...(filter.text ? { text: filter.text } : {}),
    ...(filter.param ? { params: [{ key: filter.param.key, op: '=', value: filter.param.value }] } : {}),
    ...(filter.metric ? { metrics: [filter.metric] } : {}),
  };
}

/** The metric shown beside each run: the sorted-by one, else the configured key metric, else the profiles' first gate metric. */
export function preferredMetric(state: ViewState, configured: string, gateMetric?: string): string | undefined {
  return state.sort.by === 'metric' ? state.sort.metric : configured || gateMetric;
}

export const isFiltered = (filter: RunFilterState): boolean =>
  Boolean(filter.statuses?.length || filter.text || filter.param || filter.metric);

/** One line saying what the view shows, for its description. */
export function describeState(state: ViewState): string {
  const parts: string[] = [];
  const f = state.filter;
  if (f.statuses?.length) parts.push(f.statuses.join('|'));
  if (f.text) parts.push(`"${f.text}"`);
  if (f.param) parts.push(`${f.param.key}=${f.param.value}`);
  if (f.metric) parts.push(`${f.metric.key} ${f.metric.op} ${f.metric.value}`);
  const s = state.sort;
  const sort = s.by === DEFAULT_SORT.by && s.descending === DEFAULT_SORT.descending ? '' : `by ${s.by === 'metric' ? s.metric : s.by} ${s.descending ? '↓' : '↑'}`;
  return [parts.length ? `filter: ${parts.join(', ')}` : '', sort].filter(Boolean).join(' · ');
}

/**
 * Reads a state saved by an older version or handed in by a caller: anything unknown is
 * dropped rather than trusted, so a bad value can never break the view.
 */
export function sanitizeState(raw: unknown): ViewState {
  const value = (raw ?? {}) as { filter?: Record<string, unknown>; sort?: Record<string, unknown> };
  return { filter: sanitizeFilter(value.filter), sort: sanitizeSort(value.sort) };
}

export function sanitizeFilter(raw: unknown): RunFilterState {
  const f = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const filter: RunFilterState = {};
  if (Array.isArray(f.statuses)) {
    const statuses = f.statuses.filter((s): s is RunStatus => RUN_STATUSES.includes(s as RunStatus));
    if (statuses.length) filter.statuses = [...new Set(statuses)];
  }
  if (typeof f.text === 'string' && f.text.trim()) filter.text = f.text.trim();
  const param = f.param as Record<string, unknown> | undefined;
  if (param && typeof param.key === 'string' && param.key && typeof param.value === 'string') filter.param = { key: param.key, value: param.value };
  const metric = f.metric as Record<string, unknown> | undefined;
  if (
    metric &&
    typeof metric.key === 'string' &&
    metric.key &&
    COMPARISONS.includes(metric.op as Comparison) &&
    typeof metric.value === 'number' &&
    Number.isFinite(metric.value)
  ) {
    filter.metric = { key: metric.key, op: metric.op as Comparison, value: metric.value };
  }
  return filter;
}

export function sanitizeSort(raw: unknown): SortState {
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const by = SORT_KEYS.includes(s.by as SortKey) ? (s.by as SortKey) : DEFAULT_SORT.by;
  const metric = typeof s.metric === 'string' && s.metric ? s.metric : undefined;
  if (by === 'metric' && !metric) return { ...DEFAULT_SORT };
  return { by, ...(by === 'metric' ? { metric } : {}), descending: typeof s.descending === 'boolean' ? s.descending : DEFAULT_SORT.descending };
}

/** `loss < 0.5`, `acc>=0.9` → a metric filter; undefined when it does not read as one. */
export function parseMetricFilter(text: string): RunFilterState['metric'] {
  const match = /^\s*([^<>=!\s]+)\s*(<=|>=|!=|<|>|=)\s*(\S+)\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[3]);
  if (!Number.isFinite(value)) return undefined;
  return { key: match[1]!, op: match[2] as Comparison, value };
}

/** `lr=0.1` → a param filter (the value compared as stored text). */
export function parseParamFilter(text: string): RunFilterState['param'] {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  const key = text.slice(0, eq).trim();
  return key ? { key, value: text.slice(eq + 1).trim() } : undefined;
}
