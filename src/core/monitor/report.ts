import type { Store } from '../store/store.ts';

/**
 * The shape of a deployment's monitoring report: what `runboard monitor --json` prints and what the
 * editor's Monitor panel draws. Built by `monitorDeployment` (src/core/monitor/monitor.ts) from the
 * files the model server keeps in the deployment's `monitor/` folder; plain JSON (no Maps, no
 * undefined), so it crosses the webview boundary as it is.
 */

/** `training`: logged with `runboard.log_reference`; `baseline`: the first rows the deployment served. */
export type ReferenceSource = 'training' | 'baseline';

export type FeatureKind = 'numeric' | 'categorical';

/** Limits a report is judged by: deploy config or profile `monitor: {psi, ksAlpha, gates}`, else the defaults. */
export interface MonitorThresholds {
  /** A feature (or the prediction) drifted when its PSI is at least this (default 0.2). */
  psi: number;
  /** Family-wise significance of the KS / chi-square tests across features, Holm-corrected (default 0.01). */
  ksAlpha: number;
  /** Live metric conditions, e.g. `accuracy>=0.9`, on `performance` (default none). */
  gates: string[];
}

export interface MonitorOptions {
  /** The window is the last this many served rows (default: every row since `since`, else all rows kept). */
  windowRows?: number;
  /** Epoch milliseconds: only rows served at or after this time. */
  since?: number;
  /** Overrides the configured thresholds (e.g. `check --metric`). */
  thresholds?: Partial<MonitorThresholds>;
  /** At most this many points in `history` (default 200; older windows merged). */
  historyPoints?: number;
}

export interface WindowInfo {
  /** Served rows in the window. */
  rows: number;
  /** /predict requests in the window (including failed ones). */
  requests: number;
  /** Epoch milliseconds of the first and last row; null when empty. */
  from: number | null;
  to: number | null;
}

export interface TrafficStats {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface ReferenceInfo {
  source: ReferenceSource;
  /** Rows in the reference; for a baseline still being collected, the rows collected so far. */
  rows: number;
  /** False while a baseline reference is still being collected (then there is no drift yet). */
  ready: boolean;
  /** Rows a baseline waits for (`runboard.monitor.baselineRows`); null for a training reference. */
  baselineRows: number | null;
  features: string[];
}

export interface FeatureDrift {
  name: string;
  kind: FeatureKind;
  /** Population stability index on the reference's bins (categories for a categorical feature). */
  psi: number | null;
  /** Numeric: the two-sample Kolmogorov–Smirnov statistic D; null for categorical features. */
  ks: number | null;
  /** Categorical: Jensen–Shannon distance (base 2, 0…1); null for numeric features. */
  js: number | null;
  /** p-value of the KS (numeric) or chi-square (categorical) test, before correction. */
  pValue: number | null;
  /** Holm-adjusted p-value across the features tested in this window. */
  adjustedP: number | null;
  drifted: boolean;
  /** Why it counts as drifted, e.g. `psi 0.41 >= 0.2`, `ks p=1e-9 < 0.01 (Holm)`; empty when not. */
  reasons: string[];
}

export interface PredictionDrift {
  psi: number | null;
  drifted: boolean;
}

export interface DriftReport {
  /** Any feature or the prediction drifted. */
  drifted: boolean;
  features: FeatureDrift[];
  /** Null when there is no reference prediction distribution to compare with. */
  prediction: PredictionDrift | null;
  /** The multiple-testing correction applied to the p-values. */
  correction: 'holm';
}

export interface FeatureQuality {
  name: string;
  kind: FeatureKind;
  /** Values seen in the window (missing included). */
  count: number;
  missing: number;
  missingRate: number;
  /** Numeric values below the reference's minimum or above its maximum. */
  outOfRange: number;
  outOfRangeRate: number;
  /** Categorical values the reference never had. */
  unseen: number;
  unseenRate: number;
  min: number | null;
  max: number | null;
}

export interface ConfusionMatrix {
  /** Class labels, as strings, in row/column order. */
  labels: string[];
  /** matrix[actual][predicted]: counts. */
  matrix: number[][];
}

export interface PerformanceReport {
  task: 'classification' | 'regression';
  /** Served rows with a label from /feedback in the window. */
  labeled: number;
  accuracy: number | null;
  /** Macro averages over the classes seen (as label or prediction). */
  precision: number | null;
  recall: number | null;
  f1: number | null;
  confusion: ConfusionMatrix | null;
  mae: number | null;
  rmse: number | null;
}

export interface GateOutcome {
  /** `drift`, or the condition's text, e.g. `accuracy>=0.9`. */
  condition: string;
  ok: boolean;
  actual: number | null;
  reason: string;
}

export interface GateReport {
  thresholds: MonitorThresholds;
  /** Where the thresholds came from: `defaults`, `profile NAME`, `deploy config`, `options`. */
  source: string;
  results: GateOutcome[];
  ok: boolean;
}

/** One point of the time series: one aggregate window of the server (or several merged). */
export interface HistoryPoint {
  from: number;
  to: number;
  rows: number;
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  /** PSI per feature, in the order of `History.features`; null when not computable. */
  featurePsi: (number | null)[];
  predictionPsi: number | null;
  /** Rows labeled so far among this window's rows, and the accuracy on them (null without labels or for a regressor). */
  labeled: number;
  accuracy: number | null;
}

export interface History {
  features: string[];
  points: HistoryPoint[];
}

/** Reference vs current on the reference's bins; fractions that sum to 1 (or all 0 when empty). */
export interface Histogram {
  name: string;
  kind: FeatureKind;
  /** One label per bin: `[a, b)` ranges for numeric features, the category for categorical ones. */
  bins: string[];
  /** Numeric bins' inner edges (bins.length − 1 of them); empty for categorical features. */
  edges: number[];
  reference: number[];
  current: number[];
}

export interface MonitorReport {
  deployment: number;
  model: string;
  version: number;
  /** Epoch milliseconds the report was made. */
  generatedAt: number;
  window: WindowInfo;
  traffic: TrafficStats;
  /** Null when the deployment keeps no monitoring data (not served by our local server, or too old). */
  reference: ReferenceInfo | null;
  /** Null without a ready reference. */
  drift: DriftReport | null;
  quality: FeatureQuality[];
  /** Null without feedback in the window. */
  performance: PerformanceReport | null;
  gates: GateReport;
  history: History;
  /** Per feature, in reference order. */
  histograms: Histogram[];
  /** The prediction distribution (classes, or bins of a regressor's output); null before any prediction. */
  prediction: Histogram | null;
  /** Things the reader should know, one line each (e.g. "baseline: 120 of 500 rows collected"). */
  notes: string[];
}

/**
 * The function the CLI and the editor call (implemented in monitor.ts):
 *
 *     monitorDeployment(store: Store, deploymentId: number | string, options?: MonitorOptions): MonitorReport
 *
 * Synchronous, reads only; throws UserError for an unknown deployment.
 */
export type MonitorDeployment = (store: Store, deploymentId: number | string, options?: MonitorOptions) => MonitorReport;
