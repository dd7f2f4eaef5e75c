/**
 * The Monitor panel's messages, imported by the host (src/vscode/webviews/monitor) and the
 * webview (webview/monitor). Each direction is one discriminated union: switch on `type` with a
 * `never` default so a message nobody handles fails to compile.
 *
 * The view is the engine's monitor report (src/core/monitor/report.ts) shaped for drawing:
 * series already bucketed, histograms as proportions on shared bins. Feature names, model names
 * and errors come from users and training data: the webview only ever sets them as text.
 */

export interface Histogram {
  /** One label per bin, e.g. "≤ 0.42", "0.42 – 1.3", or a category. */
  labels: string[];
  /** Share of the reference's rows per bin (sums to 1, or all zero without rows). */
  reference: number[];
  /** Share of the current window's rows per bin. */
  current: number[];
}

export interface FeatureView {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Population stability index of the current window against the reference; null without one. */
  psi: number | null;
  /** The drift test's p-value (KS for numbers, chi-square for categories), corrected for the number of features; null without one. */
  pValue: number | null;
  drifted: boolean;
  histogram: Histogram | null;
  quality: { rows: number; missing: number; outOfRange: number; unseen: number };
}

/** One window of the history, oldest first. */
export interface WindowView {
  /** Epoch milliseconds of the window's last row (its start for the first). */
  from: number | null;
  to: number | null;
  rows: number;
  requests: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
  /** PSI per feature, in the order of `MonitorView.features`; null where the window had no rows of it. */
  psi: (number | null)[];
  drifted: boolean[];
  predictionPsi: number | null;
  /** Accuracy of the window's labelled rows (a regressor: null); null before feedback. */
  accuracy: number | null;
  labeled: number;
}

export interface GateView {
  /** As written in the config, e.g. "accuracy>=0.9". */
  text: string;
  /** The live value it was checked against; null when there is none yet. */
  actual: number | null;
  /** null: not checkable yet (no feedback). */
  passed: boolean | null;
}

export interface MonitorView {
  deployment: { id: number; model: string; version: number; target: string; status: string; url: string | null };
  /** null: no reference yet (no log_reference and fewer served rows than the baseline needs). */
  reference: { source: 'training' | 'baseline'; rows: number } | null;
  window: { rows: number; requests: number; from: number | null; to: number | null };
  traffic: { requests: number; errors: number; errorRate: number; p50Ms: number | null; p95Ms: number | null };
  /** Thresholds in force, e.g. PSI 0.2, KS alpha 0.05, each with where it came from. */
  thresholds: { label: string; value: string }[];
  /** PSI above which a feature counts as drifted: the heatmap's colour scale is set by it. */
  psiThreshold: number;
  drifted: boolean;
  features: FeatureView[];
  prediction: { psi: number | null; drifted: boolean; histogram: Histogram | null } | null;
  /** null: no feedback yet. */
  performance: { labeled: number; metrics: { name: string; value: number }[] } | null;
  gates: GateView[];
  history: WindowView[];
  /** What the report could not say, in a sentence each (e.g. "the reference is a baseline of the first 500 served rows"). */
  notes: string[];
}

/** What the webview drew, posted after each render: tests wait for it. */
export interface RenderedReport {
  deployment: number;
  /** Feature shown in the histogram. */
  feature: string | null;
  /** Heatmap cells drawn (features × windows) and those marked drifted. */
  cells: number;
  driftedCells: number;
  /** Sections that showed their empty state instead of a chart, e.g. "performance". */
  empty: string[];
  ms: number;
}

/** What the webview keeps in `setState`, so VS Code can restore the panel after a reload. */
export interface MonitorViewState {
  deployment: number;
  feature: string | null;
}

/** What a button of the panel asks the editor to do. */
export type MonitorAction = 'retrain' | 'rollback' | 'lineage';

// ── host → webview ──────────────────────────────────────────────────────────
export type HostMessage = { type: 'report'; view: MonitorView } | { type: 'error'; message: string };

// ── webview → host ──────────────────────────────────────────────────────────
export type WebviewMessage =
  /** First message, after the page's script ran: the host sends nothing before it. */
  | { type: 'ready' }
  | { type: 'action'; action: MonitorAction }
  | { type: 'rendered'; report: RenderedReport }
  | { type: 'error'; message: string };
