/**
 * The Compare panel's messages, imported by the host (src/webviews/compare, src/core/compare) and
 * the webview (webview/compare). Each direction is one discriminated union: switch on `type` with a
 * `never` default so a message nobody handles fails to compile.
 *
 * Series travel as columnar Float64Arrays: VS Code (engine ≥ 1.57) moves typed arrays to a webview
 * as binary buffers beside the JSON, so 100 runs × 2k points cost a copy, not a number-to-text
 * round trip. All columns of one series share one buffer.
 */

import type { NonFinitePoint, X_AXES } from '../core/compare/constants.ts';

export type { NonFinitePoint } from '../core/compare/constants.ts';
export { DEFAULT_POINTS, describeNonFinite, FAILED_STATUSES, MAX_POINTS, NO_GROUP, orderGroups, X_AXES } from '../core/compare/constants.ts';

/** What the x axis shows. `relative` is seconds since the run started, `wall` epoch ms. */
export type XAxis = (typeof X_AXES)[number];

/** Whether a metric is better low (loss) or high (accuracy). */
export type Direction = 'min' | 'max';

export const TABS = ['charts', 'table', 'parallel', 'scatter', 'evaluation'] as const;
export type Tab = (typeof TABS)[number];

/** A closed range in x-axis units. */
export interface XRange {
  from: number;
  to: number;
}

export interface RunInfo {
  id: number;
  name: string;
  experiment: string;
  status: string;
  /** Epoch ms; null when the run never started. */
  startedAt: number | null;
  endedAt: number | null;
  /** The run logged an `epoch` metric, so its steps map to epochs. */
  hasEpoch: boolean;
  params: Record<string, string>;
  /** Per metric that went NaN or ±Infinity: where it first did. */
  nonfinite: Record<string, NonFinitePoint>;
  /** Per metric with any: points a later value for the same step replaced (a restarted loop). */
  replaced: Record<string, number>;
}

/** Everything the webview needs besides series: sent on `ready` (init) and on live updates (state). */
export interface CompareState {
  runs: RunInfo[];
  /** Metric names logged by any shown run, sorted. */
  metrics: string[];
  /** Param names of any shown run, sorted. */
  params: string[];
  differingParams: string[];
  /** Params with more than one value among the runs that have them (scatter, parallel coordinates). */
  varyingParams: string[];
  directions: Record<string, Direction>;
  /** At least one shown run is running: the host pushes updates. */
  live: boolean;
}

/** What the webview keeps in `setState` and hands back in `ready`, so a reloaded panel looks the same. */
export interface ViewState {
  /** The runs shown (kept so VS Code can restore the panel after a reload). */
  runs: number[];
  tab: Tab;
  metrics: string[];
  xAxis: XAxis;
  zoom: XRange | null;
  /** EMA weight in [0, 1). */
  smoothing: number;
  logY: boolean;
  groupBy: string | null;
  highlight: number | null;
  hidden: number[];
  sort: { column: string; descending: boolean } | null;
  onlyDiffering: boolean;
  /** Parallel coordinates and scatter: the metric and which summary of it. */
  metric: string | null;
  aggregate: Aggregate;
  scatterParam: string | null;
  /** User overrides of the guessed direction per metric. */
  directions: Record<string, Direction>;
  normalizeConfusion: boolean;
}

export type Aggregate = 'last' | 'best' | 'min' | 'max';

export interface SeriesQuery {
  metric: string;
  xAxis: XAxis;
  /** Null: the whole series. */
  range: XRange | null;
  /**
   * At most this many points per series. Long ranges come back as min/max buckets of a
   * power-of-two width, between half and all of this; short ones as every raw point.
   */
  points: number;
  /** Group runs by this param: one mean ± std line per value instead of one line per run. */
  groupBy: string | null;
}

/**
 * One run's series for a view. Each bucket of the min/max envelope is one point: x (in the query's
 * axis), the step of its last point, the mean, the finite min and max, how many points it holds.
 * `exact`: every point is a raw point (min, max and count are then null).
 */
export interface RunSeries {
  runId: number;
  exact: boolean;
  /** Where the store read it from: `raw` or the rollup tier. */
  source: string;
  x: Float64Array;
  step: Float64Array;
  y: Float64Array;
  min: Float64Array | null;
  max: Float64Array | null;
  count: Float64Array | null;
  /** Per bucket, the NaN and ±Infinity points that min, max, mean and count leave out. */
  nonfinite: Float64Array | null;
}

/** Runs sharing one value of the group-by param, aligned on steps: mean ± sample std across runs. */
export interface GroupSeries {
  /** The param value (`(none)` for runs without it). */
  group: string;
  runIds: number[];
  x: Float64Array;
  mean: Float64Array;
  std: Float64Array;
  /** Runs contributing to each point. */
  n: Float64Array;
}

export interface SeriesData {
  requestId: number;
  query: SeriesQuery;
  /** The x extent of the whole data (for the reset-zoom view), whatever the range. */
  domain: XRange | null;
  /** Live refresh: only these runs changed; keep the others. */
  partial: boolean;
  runs: RunSeries[];
  groups: GroupSeries[] | null;
}

export type CellValue = string | number | null;

export interface TableColumn {
  id: string;
  kind: 'run' | 'param' | 'metric';
  label: string;
  /** param: the values differ between runs. */
  differing: boolean;
  /** Every value is a number (sorts numerically). */
  numeric: boolean;
  /** metric columns. */
  metric?: string;
  aggregate?: Aggregate;
  direction?: Direction;
  /** Runs holding the best value of this column (ties included); empty for non-metric columns. */
  best: number[];
}

export interface TableRow {
  runId: number;
  cells: CellValue[];
}

export interface TableData {
  columns: TableColumn[];
  rows: TableRow[];
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  labels: string[];
  /** Rows: true label, columns: predicted label. */
  confusionMatrix: number[][];
  perClass: Record<string, ClassScores>;
  accuracy: number | null;
  title: string | null;
}

export interface EvaluationFile {
  /** Relative to the run folder. */
  path: string;
  evaluation: Evaluation | null;
  error: string | null;
}

export interface RunEvaluations {
  runId: number;
  files: EvaluationFile[];
}

/** What the webview drew, posted after every chart render: tests and benchmarks wait for it. */
export interface RenderedReport {
  /** Which view was drawn. */
  view: 'chart' | 'table' | 'parallel' | 'scatter' | 'evaluation';
  metric: string | null;
  requestId: number | null;
  series: { runId: number | null; group: string | null; points: number }[];
  /** Milliseconds the render took in the webview. */
  ms: number;
  /** Charts: whether y was logarithmic, and its tick labels with their pixel heights (overlap checks). */
  logY?: boolean;
  yTicks?: { label: string; px: number }[];
}

// ── host → webview ──────────────────────────────────────────────────────────
export type HostMessage =
  | { type: 'init'; state: CompareState; defaultMetrics: string[] }
  | { type: 'state'; state: CompareState }
  | ({ type: 'series' } & SeriesData)
  | { type: 'table'; table: TableData }
  | { type: 'evaluation'; runs: RunEvaluations[] }
  | { type: 'highlight'; runId: number | null }
  | { type: 'error'; message: string; requestId: number | null };

// ── webview → host ──────────────────────────────────────────────────────────
export type WebviewMessage =
  /** First message; `view` is the persisted state (null on a fresh panel). */
  | { type: 'ready'; view: ViewState | null }
  /** The view changed (charts shown, zoom, tab…): live refresh re-reads only what is on screen. */
  | { type: 'view'; view: ViewState }
  | { type: 'requestSeries'; requestId: number; query: SeriesQuery }
  | { type: 'setDirections'; directions: Record<string, Direction> }
  | { type: 'requestEvaluation' }
  | { type: 'highlight'; runId: number | null }
  | { type: 'exportCsv'; what: 'table' }
  | { type: 'exportCsv'; what: 'series'; query: SeriesQuery }
  | { type: 'exportPng'; name: string; dataUrl: string }
  | { type: 'showCodeDiff'; runIds: [number, number] }
  | { type: 'rendered'; report: RenderedReport }
  | { type: 'error'; message: string };

export function defaultViewState(): ViewState {
  return {
    runs: [],
    tab: 'charts',
    metrics: [],
    xAxis: 'step',
    zoom: null,
    smoothing: 0,
    logY: false,
    groupBy: null,
    highlight: null,
    hidden: [],
    sort: null,
    onlyDiffering: false,
    metric: null,
    aggregate: 'last',
    scatterParam: null,
    directions: {},
    normalizeConfusion: false,
  };
}
