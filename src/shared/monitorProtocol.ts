/**
 * The Monitor panel's messages, imported by the host (src/vscode/webviews/monitor) and the
 * webview (webview/monitor). Each direction is one discriminated union: switch on `type` with a
 * `never` default so a message nobody handles fails to compile.
 *
 * The page gets the engine's report as it is (src/core/monitor/report.ts: plain JSON, series
 * already bounded by `historyPoints`). Feature names, model names and errors come from users and
 * training data: the webview only ever sets them as text.
 */
import type { Deployment } from '../core/deploy/types.ts';
import type { MonitorReport } from '../core/monitor/report.ts';

/** What the page shows of the deployment besides its report. */
export type MonitoredDeployment = Pick<Deployment, 'id' | 'model' | 'version' | 'target' | 'status' | 'url'>;

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
export type HostMessage = { type: 'report'; deployment: MonitoredDeployment; report: MonitorReport } | { type: 'error'; message: string };

// ── webview → host ──────────────────────────────────────────────────────────
export type WebviewMessage =
  /** First message, after the page's script ran: the host sends nothing before it. */
  | { type: 'ready' }
  | { type: 'action'; action: MonitorAction }
  | { type: 'rendered'; report: RenderedReport }
  | { type: 'error'; message: string };
