/**
 * The Runs Table panel's messages, imported by the host (src/vscode/webviews/runsTable) and the
 * webview (webview/runsTable). Each direction is one discriminated union: switch on `type` with a
 * `never` default so a message nobody handles fails to compile.
 *
 * Every string in here (run, experiment, param and metric names, param values) comes from users
 * and training scripts: the webview only ever sets it as text, never as markup.
 */
import type { Direction } from './compareProtocol.ts';

export type RunStatusName = 'queued' | 'running' | 'finished' | 'failed' | 'killed' | 'crashed';

/** A number as it crosses postMessage (JSON): NaN and ±Infinity would arrive as null, so they travel as words. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/**
 * A metric of a run: last, min and max (over finite values only; 'NaN' when the series has none),
 * and how many points were NaN or ±Inf. A tuple: 10,000 runs × 17 metrics as objects repeated
 * the four field names 170,000 times in the message.
 */
export type TableMetric = [last: WireNumber, min: WireNumber, max: WireNumber, nonfinite: number];

export interface TableRun {
  id: number;
  name: string;
  experiment: string;
  status: RunStatusName;
  /** The sweep this run belongs to. */
  parentId: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  commit: string | null;
  dirty: boolean;
  /** Its first model file (path in its folder), what Register Model registers. */
  model: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, TableMetric>;
}

/** Which value of a metric a column shows; `best` is min or max by the metric's direction. */
export type Aggregate = 'last' | 'min' | 'max' | 'best';
export const AGGREGATES: readonly Aggregate[] = ['last', 'min', 'max', 'best'];

/** Column ids: the fixed ones, `param:KEY` and `metric:KEY`. */
export const FIXED_COLUMNS = ['status', 'name', 'experiment', 'started', 'duration', 'commit'] as const;
export type FixedColumn = (typeof FIXED_COLUMNS)[number];

export interface SortKey {
  column: string;
  descending: boolean;
}

/** What the user arranged, kept per workspace by the host and in the page's state. */
export interface TableView {
  /** Column ids in the order shown; columns not listed (new params, metrics) follow in their default order. */
  order: string[];
  hidden: string[];
  pinned: string[];
  widths: Record<string, number>;
  aggregates: Record<string, Aggregate>;
  hideConstant: boolean;
  /** First key first; shift-click adds the next. */
  sort: SortKey[];
  filter: string;
  /** `sweep`, `param:KEY`, or null. */
  groupBy: string | null;
}

export const DEFAULT_VIEW: TableView = {
  order: [],
  hidden: [],
  pinned: ['status', 'name'],
  widths: {},
  aggregates: {},
  hideConstant: false,
  sort: [],
  filter: '',
  groupBy: null,
};

export const TABLE_ACTIONS = ['compare', 'diff', 'stop', 'rerun', 'delete', 'registerModel', 'copyIds'] as const;
export type TableAction = (typeof TABLE_ACTIONS)[number];

/** What the webview drew, posted after each render: tests wait for it. */
export interface RenderedReport {
  /** Rows after the filter (group headers not counted). */
  rows: number;
  total: number;
  /** Visible column ids in order. */
  columns: string[];
  /** Run ids in display order, the first 100. */
  order: number[];
  selected: number[];
  /** The filter's error, shown inline, or null. */
  filterError: string | null;
  /** Milliseconds the render took in the page. */
  ms: number;
}

// ── host → webview ──────────────────────────────────────────────────────────
export type HostMessage =
  /** Every run: the first message after each `ready`, and after a change that cannot be narrowed. */
  | { type: 'runs'; runs: TableRun[]; directions: Record<string, Direction>; view: TableView | null; now: number }
  /** Runs created or changed (replaced in place) and runs deleted. */
  | { type: 'update'; runs: TableRun[]; deleted: number[]; directions: Record<string, Direction>; now: number }
  | { type: 'error'; message: string };

// ── webview → host ──────────────────────────────────────────────────────────
export type WebviewMessage =
  /** First message, after the page's script ran: the host sends nothing before it. */
  | { type: 'ready' }
  | { type: 'action'; action: TableAction; runIds: number[] }
  /** Double-click or Enter: the run in the Experiments view. */
  | { type: 'open'; runId: number }
  | { type: 'saveView'; view: TableView }
  | { type: 'rendered'; report: RenderedReport }
  | { type: 'error'; message: string };

export const toWire = (x: number): WireNumber => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : x);
export const fromWire = (x: WireNumber): number => (typeof x === 'number' ? x : Number(x));
