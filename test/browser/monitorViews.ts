// Builders of monitor reports for the webview tests: deterministic shapes of the engine's report
// (features, windows, drifted features, empty states), as the host sends them to the page.
import type { FeatureDrift, Histogram, HistoryPoint, MonitorReport } from '../../src/core/monitor/report.ts';
import type { HostMessage, MonitoredDeployment } from '../../src/shared/monitorProtocol.ts';

export interface ReportShape {
  features?: string[];
  windows?: number;
  /** Features drifted in the later half of the windows. */
  drifted?: string[];
  /** false: no monitoring data; 'collecting': a baseline still being collected. */
  reference?: boolean | 'collecting';
  feedback?: boolean;
  traffic?: boolean;
  version?: number;
}

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const PSI = 0.2;

function histogram(name: string, seed: number, shift: number): Histogram {
  const bins = ['[-inf, -1.2)', '[-1.2, -0.5)', '[-0.5, 0)', '[0, 0.5)', '[0.5, 1.2)', '[1.2, inf)'];
  const reference = [0.12, 0.18, 0.2, 0.2, 0.18, 0.12];
  const raw = reference.map((r, i) => Math.max(0.01, r + shift * (i - 2.5) * 0.06 + ((seed * 7 + i) % 5) * 0.004));
  const sum = raw.reduce((a, b) => a + b, 0);
  return { name, kind: 'numeric', bins, edges: [-1.2, -0.5, 0, 0.5, 1.2], reference, current: raw.map((x) => x / sum) };
}

export function monitorReport(shape: ReportShape = {}): Extract<HostMessage, { type: 'report' }> {
  const names = shape.features ?? ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const ready = shape.reference === undefined || shape.reference === true;
  const hasReference = shape.reference !== false;
  const traffic = shape.traffic ?? true;
  const feedback = (shape.feedback ?? true) && traffic;
  const drifted = new Set(ready ? (shape.drifted ?? []) : []);
  const count = traffic ? (shape.windows ?? 8) : 0;
  const points: HistoryPoint[] = Array.from({ length: count }, (_, w) => {
    const late = w >= count / 2;
    const requests = 50 + ((w * 17) % 20);
    const errors = w === 5 ? 3 : 0;
    return {
      from: T0 + w * 60_000,
      to: T0 + (w + 1) * 60_000,
      rows: 500,
      requests,
      errors,
      errorRate: errors / requests,
      p50Ms: 2.5 + (w % 3) * 0.4,
      p95Ms: 7 + (w % 4),
      featurePsi: names.map((name, i) => (ready ? (late && drifted.has(name) ? 0.35 + w * 0.05 : 0.01 + ((i * 13 + w * 7) % 9) * 0.01) : null)),
      predictionPsi: ready ? (late && drifted.size ? 0.24 : 0.02) : null,
      labeled: feedback ? 120 : 0,
      accuracy: feedback ? (late && drifted.size ? 0.71 : 0.95) - (w % 2) * 0.01 : null,
    };
  });
  const last = points.at(-1);
  const features: FeatureDrift[] = names.map((name, i) => {
    const isDrifted = drifted.has(name);
    const psi = last?.featurePsi[i] ?? null;
    return { name, kind: 'numeric', psi, ks: isDrifted ? 0.41 : 0.05, js: null, pValue: isDrifted ? 1e-9 : 0.42, adjustedP: isDrifted ? 4e-9 : 1, drifted: isDrifted, reasons: isDrifted && psi !== null ? [`psi ${psi.toFixed(2)} >= ${PSI}`] : [] };
  });
  const accuracy = feedback ? last!.accuracy : null;
  const requests = points.reduce((n, w) => n + w.requests, 0);
  const report: MonitorReport = {
    deployment: 3,
    model: 'iris',
    version: shape.version ?? 2,
    generatedAt: T0 + count * 60_000,
    window: { rows: traffic ? 500 : 0, requests: last?.requests ?? 0, from: last?.from ?? null, to: last?.to ?? null },
    traffic: { requests, errors: traffic ? 3 : 0, errorRate: traffic ? 3 / requests : 0, p50Ms: last?.p50Ms ?? null, p95Ms: last?.p95Ms ?? null },
    reference: hasReference ? { source: ready ? 'training' : 'baseline', rows: ready ? 120 : 37, ready, baselineRows: ready ? null : 500, features: names } : null,
    drift: ready && traffic ? { drifted: drifted.size > 0, features, prediction: { psi: last!.predictionPsi, drifted: (last!.predictionPsi ?? 0) >= PSI }, correction: 'holm' } : null,
    quality: traffic ? names.map((name, i) => ({ name, kind: 'numeric', count: 500, missing: i === 1 ? 4 : 0, missingRate: i === 1 ? 0.008 : 0, outOfRange: drifted.has(name) ? 37 : 0, outOfRangeRate: drifted.has(name) ? 0.074 : 0, unseen: 0, unseenRate: 0, min: -2.1, max: drifted.has(name) ? 6.5 : 2.4 })) : [],
    performance:
      accuracy === null || accuracy === undefined
        ? null
        : { task: 'classification', labeled: 960, accuracy, precision: accuracy - 0.01, recall: accuracy - 0.03, f1: accuracy - 0.02, confusion: { labels: ['setosa', 'versicolor', 'virginica'], matrix: [[40, 2, 0], [3, 30, 9], [0, 11, 25]] }, mae: null, rmse: null },
    gates: {
      thresholds: { psi: PSI, ksAlpha: 0.01, gates: ['accuracy>=0.9'] },
      source: 'defaults',
      results: [{ condition: 'accuracy>=0.9', ok: accuracy !== null && accuracy !== undefined && accuracy >= 0.9, actual: accuracy ?? null, reason: accuracy === null || accuracy === undefined ? 'no feedback yet' : `accuracy ${accuracy.toFixed(2)} ${accuracy >= 0.9 ? '>=' : '<'} 0.9` }],
      ok: accuracy !== null && accuracy !== undefined && accuracy >= 0.9,
    },
    history: { features: ready ? names : [], points },
    histograms: ready && traffic ? names.map((name, i) => histogram(name, i, drifted.has(name) ? 2 : 0)) : [],
    prediction: traffic ? { name: 'prediction', kind: 'categorical', bins: ['setosa', 'versicolor', 'virginica'], edges: [], reference: [0.33, 0.34, 0.33], current: drifted.size ? [0.2, 0.3, 0.5] : [0.32, 0.35, 0.33] } : null,
    notes: [],
  };
  const deployment: MonitoredDeployment = { id: 3, model: 'iris', version: report.version, target: 'local', status: 'running', url: 'http://127.0.0.1:8765' };
  return { type: 'report', deployment, report };
}
