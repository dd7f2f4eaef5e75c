/**
 * The runs table's data work, without the DOM: columns, cell values, sort, groups, constant
 * columns and best values. Every function here is pure, so the page recomputes from the runs and
 * the view on each change and the browser tests check what it drew.
 */
import type { Direction } from '../../src/shared/compareProtocol.ts';
import { fromWire, type Aggregate, type FixedColumn, type SortKey, type TableRun, type TableView } from '../../src/shared/runsTableProtocol.ts';
import { formatDuration, formatValue } from '../compare/dom.ts';

export interface Column {
  id: string;
  kind: 'fixed' | 'param' | 'metric';
  /** The param or metric name; the fixed column's id. */
  key: string;
  label: string;
}

/** What a cell shows and sorts by. `missing` sorts last in either direction. */
export interface Cell {
  text: string;
  /** Numbers sort before text; NaN sorts with the missing. */
  sort: number | string | null;
  tone: 'plain' | 'number' | 'nonfinite' | 'missing';
  /** A metric whose series held NaN or ±Inf points. */
  nonfinitePoints?: number;
}

export const FIXED_LABELS: Record<FixedColumn, string> = {
  status: 'Status',
  name: 'Name',
  experiment: 'Experiment',
  started: 'Started',
  duration: 'Duration',
  commit: 'Commit',
};

export const DEFAULT_WIDTHS: Record<string, number> = { status: 34, name: 190, experiment: 120, started: 140, duration: 84, commit: 96, param: 96, metric: 112 };
export const MIN_WIDTH = 34;

const STATUS_ORDER = ['running', 'queued', 'finished', 'killed', 'failed', 'crashed'];

export const paramColumn = (key: string): string => `param:${key}`;
export const metricColumn = (key: string): string => `metric:${key}`;

export function columnOf(id: string): Column {
  if (id.startsWith('param:')) return { id, kind: 'param', key: id.slice(6), label: id.slice(6) };
  if (id.startsWith('metric:')) return { id, kind: 'metric', key: id.slice(7), label: id.slice(7) };
  return { id, kind: 'fixed', key: id, label: FIXED_LABELS[id as FixedColumn] ?? id };
}

/** Every column the runs call for: the fixed ones, then params, then metrics, each by name. */
export function allColumns(runs: Iterable<TableRun>): Column[] {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const run of runs) {
    for (const key of Object.keys(run.params)) params.add(key);
    for (const key of Object.keys(run.metrics)) metrics.add(key);
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  return [
    ...(['status', 'name', 'experiment', 'started', 'duration', 'commit'] as const).map((id) => columnOf(id)),
    ...[...params].sort(byName).map((k) => columnOf(paramColumn(k))),
    ...[...metrics].sort(byName).map((k) => columnOf(metricColumn(k))),
  ];
}

/** The view's order first, then columns it does not know yet in their default order; pinned ones lead. */
export function arrangeColumns(all: readonly Column[], view: TableView): Column[] {
  const rank = new Map(view.order.map((id, i) => [id, i]));
  const fallback = new Map(all.map((c, i) => [c.id, i]));
  const pinned = new Set(view.pinned);
  const placed = (c: Column) => rank.get(c.id) ?? view.order.length + fallback.get(c.id)!;
  return [...all].sort((a, b) => Number(pinned.has(b.id)) - Number(pinned.has(a.id)) || placed(a) - placed(b));
}

export function aggregateOf(view: TableView, metric: string): Aggregate {
  return Object.hasOwn(view.aggregates, metric) ? view.aggregates[metric]! : 'last';
}

export function directionOf(directions: Record<string, Direction>, metric: string): Direction {
  return Object.hasOwn(directions, metric) ? directions[metric]! : 'max';
}

/** The number a metric column shows for a run, or undefined when the run lacks the metric. */
export function metricValue(run: TableRun, metric: string, aggregate: Aggregate, direction: Direction): number | undefined {
  if (!Object.hasOwn(run.metrics, metric)) return undefined;
  const m = run.metrics[metric]!;
  const pick = aggregate === 'best' ? direction : aggregate;
  return fromWire(m[pick === 'min' ? 1 : pick === 'max' ? 2 : 0]);
}

const MISSING: Cell = { text: '', sort: null, tone: 'missing' };

export interface CellContext {
  view: TableView;
  directions: Record<string, Direction>;
  /** The page's clock, in the host's time (durations of running runs). */
  now: number;
}

export function cellOf(run: TableRun, column: Column, ctx: CellContext): Cell {
  switch (column.kind) {
    case 'param': {
      if (!Object.hasOwn(run.params, column.key)) return MISSING;
      const text = run.params[column.key]!;
      const n = text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(n) ? { text, sort: n, tone: 'number' } : { text, sort: text, tone: 'plain' };
    }
    case 'metric': {
      const value = metricValue(run, column.key, aggregateOf(ctx.view, column.key), directionOf(ctx.directions, column.key));
      if (value === undefined) return MISSING;
      const nonfinitePoints = run.metrics[column.key]![3] || undefined;
      if (Number.isNaN(value)) return { text: 'NaN', sort: null, tone: 'nonfinite', nonfinitePoints };
      if (!Number.isFinite(value)) return { text: value > 0 ? '+Inf' : '−Inf', sort: value, tone: 'nonfinite', nonfinitePoints };
      return { text: formatValue(value), sort: value, tone: 'number', nonfinitePoints };
    }
    default:
      return fixedCell(run, column.key as FixedColumn, ctx.now);
  }
}

function fixedCell(run: TableRun, column: FixedColumn, now: number): Cell {
  switch (column) {
    case 'status':
      return { text: run.status, sort: STATUS_ORDER.indexOf(run.status), tone: 'plain' };
    case 'name':
      return { text: run.name, sort: run.name.toLowerCase(), tone: 'plain' };
    case 'experiment':
      return { text: run.experiment, sort: run.experiment.toLowerCase(), tone: 'plain' };
    case 'started': {
      const at = run.startedAt ?? run.createdAt;
      return { text: formatStart(at), sort: at, tone: 'plain' };
    }
    case 'duration': {
      const ms = durationMs(run, now);
      return ms === undefined ? MISSING : { text: formatDuration(ms / 1000), sort: ms, tone: 'number' };
    }
    case 'commit':
      return run.commit ? { text: `${run.commit.slice(0, 7)}${run.dirty ? ' *' : ''}`, sort: run.commit, tone: 'plain' } : MISSING;
    default: {
      const never: never = column;
      return { text: String(never), sort: null, tone: 'missing' };
    }
  }
}

export function durationMs(run: TableRun, now: number): number | undefined {
  if (run.startedAt === null) return undefined;
  return Math.max(0, (run.endedAt ?? now) - run.startedAt);
}

function formatStart(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Runs the sort keys in order (first key first); the newest run breaks ties. Missing values go last either way. */
export function sortRuns(runs: readonly TableRun[], keys: readonly SortKey[], ctx: CellContext): TableRun[] {
  if (keys.length === 0) return [...runs].sort((a, b) => b.id - a.id);
  const columns = keys.map((k) => columnOf(k.column));
  // One pass builds the sort keys; the sort then compares plain values.
  const values = runs.map((run) => columns.map((c) => cellOf(run, c, ctx).sort));
  const index = runs.map((_, i) => i);
  index.sort((i, j) => {
    for (let k = 0; k < keys.length; k++) {
      const order = compareValues(values[i]![k]!, values[j]![k]!, keys[k]!.descending);
      if (order !== 0) return order;
    }
    return runs[j]!.id - runs[i]!.id;
  });
  return index.map((i) => runs[i]!);
}

function compareValues(a: number | string | null, b: number | string | null, descending: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const sign = descending ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return sign * (a < b ? -1 : a > b ? 1 : 0);
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return sign * (a < b ? -1 : a > b ? 1 : 0);
}

/** A display line: a group's header or a run. */
export type Line = { kind: 'group'; key: string; label: string; count: number } | { kind: 'run'; run: TableRun };

/**
 * Runs in groups (by a param's value, or by sweep), groups in the order of their first run, so the
 * sort still decides both the groups' order and the order within each.
 */
export function groupLines(sorted: readonly TableRun[], groupBy: string | null, byId: ReadonlyMap<number, TableRun>): Line[] {
  if (!groupBy) return sorted.map((run) => ({ kind: 'run', run }));
  const parents = new Set<number>();
  for (const run of byId.values()) if (run.parentId !== null) parents.add(run.parentId);
  const groups = new Map<string, { label: string; runs: TableRun[] }>();
  for (const run of sorted) {
    const { key, label } = groupOf(run, groupBy, parents, byId);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { label, runs: [] }));
    group.runs.push(run);
  }
  const lines: Line[] = [];
  for (const [key, group] of groups) {
    lines.push({ kind: 'group', key, label: group.label, count: group.runs.length });
    for (const run of group.runs) lines.push({ kind: 'run', run });
  }
  return lines;
}

function groupOf(run: TableRun, groupBy: string, parents: ReadonlySet<number>, byId: ReadonlyMap<number, TableRun>): { key: string; label: string } {
  if (groupBy === 'sweep') {
    const sweep = run.parentId ?? (parents.has(run.id) ? run.id : null);
    if (sweep === null) return { key: 'none', label: 'Not in a sweep' };
    return { key: `sweep:${sweep}`, label: `Sweep ${byId.get(sweep)?.name ?? ''} #${sweep}` };
  }
  const key = groupBy.startsWith('param:') ? groupBy.slice(6) : groupBy;
  if (!Object.hasOwn(run.params, key)) return { key: 'none', label: `${key} not set` };
  const value = run.params[key]!;
  return { key: `=${value}`, label: `${key} = ${value}` };
}

/** Param and metric columns whose cells are all alike over these runs (never the fixed ones; never with fewer than two runs). */
export function constantColumns(runs: readonly TableRun[], columns: readonly Column[], ctx: CellContext): Set<string> {
  const constant = new Set<string>();
  if (runs.length < 2) return constant;
  for (const column of columns) {
    if (column.kind === 'fixed') continue;
    const first = cellOf(runs[0]!, column, ctx).text;
    if (runs.every((run) => cellOf(run, column, ctx).text === first)) constant.add(column.id);
  }
  return constant;
}

/** Runs that failed or crashed are not ranked: a crashed run's low loss is no result. */
const UNRANKED = new Set(['failed', 'crashed']);

/** For each metric column, the best finite value over these runs by the metric's direction. */
export function bestValues(runs: readonly TableRun[], columns: readonly Column[], ctx: CellContext): Map<string, number> {
  const best = new Map<string, number>();
  for (const column of columns) {
    if (column.kind !== 'metric') continue;
    const aggregate = aggregateOf(ctx.view, column.key);
    const direction = directionOf(ctx.directions, column.key);
    let top: number | undefined;
    for (const run of runs) {
      if (UNRANKED.has(run.status)) continue;
      const v = metricValue(run, column.key, aggregate, direction);
      if (v === undefined || !Number.isFinite(v)) continue;
      if (top === undefined || (direction === 'min' ? v < top : v > top)) top = v;
    }
    if (top !== undefined) best.set(column.id, top);
  }
  return best;
}
