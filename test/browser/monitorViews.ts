// Builders of Monitor panel views for the webview tests: deterministic shapes of a report
// (features, windows, drifted features, empty states), the way the presenter sends them.
import type { FeatureView, Histogram, MonitorView, WindowView } from '../../src/shared/monitorProtocol.ts';

export interface ViewShape {
  features?: string[];
  windows?: number;
  /** Features drifted in the later half of the windows. */
  drifted?: string[];
  reference?: boolean;
  feedback?: boolean;
  traffic?: boolean;
  version?: number;
}

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function histogram(seed: number, shift: number): Histogram {
  const labels = ['≤ -1.2', '-1.2 – -0.5', '-0.5 – 0', '0 – 0.5', '0.5 – 1.2', '> 1.2'];
  const reference = [0.12, 0.18, 0.2, 0.2, 0.18, 0.12];
  const raw = reference.map((r, i) => Math.max(0.01, r + shift * (i - 2.5) * 0.06 + ((seed * 7 + i) % 5) * 0.004));
  const sum = raw.reduce((a, b) => a + b, 0);
  return { labels, reference, current: raw.map((x) => x / sum) };
}

export function monitorView(shape: ViewShape = {}): MonitorView {
  const names = shape.features ?? ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const reference = shape.reference ?? true;
  const traffic = shape.traffic ?? true;
  const feedback = shape.feedback ?? true;
  const drifted = new Set(shape.drifted ?? []);
  const count = traffic ? (shape.windows ?? 8) : 0;
  const history: WindowView[] = Array.from({ length: count }, (_, w) => {
    const late = w >= count / 2;
    const psi = names.map((name, i) => (reference ? (late && drifted.has(name) ? 0.35 + w * 0.05 : 0.01 + ((i * 13 + w * 7) % 9) * 0.01) : null));
    return {
      from: T0 + w * 60_000,
      to: T0 + (w + 1) * 60_000,
      rows: 500,
      requests: 50 + ((w * 17) % 20),
      errors: w === 5 ? 3 : 0,
      p50Ms: 2.5 + (w % 3) * 0.4,
      p95Ms: 7 + (w % 4),
      psi,
      drifted: psi.map((p) => p !== null && p >= 0.2),
      predictionPsi: reference ? (late && drifted.size ? 0.24 : 0.02) : null,
      accuracy: feedback ? (late && drifted.size ? 0.71 : 0.95) - (w % 2) * 0.01 : null,
      labeled: feedback ? 120 : 0,
    };
  });
  const last = history.at(-1);
  const features: FeatureView[] = names.map((name, i) => {
    const isDrifted = reference && drifted.has(name);
    return {
      name,
      kind: 'numeric',
      psi: reference && traffic ? (last!.psi[i] ?? null) : null,
      pValue: reference && traffic ? (isDrifted ? 1e-6 : 0.42) : null,
      drifted: Boolean(isDrifted && traffic),
      histogram: reference && traffic ? histogram(i, isDrifted ? 2 : 0) : null,
      quality: { rows: traffic ? 500 : 0, missing: i === 1 && traffic ? 4 : 0, outOfRange: isDrifted && traffic ? 37 : 0, unseen: 0 },
    };
  });
  const accuracy = feedback && traffic ? last!.accuracy! : null;
  return {
    deployment: { id: 3, model: 'iris', version: shape.version ?? 2, target: 'local', status: 'running', url: 'http://127.0.0.1:8765' },
    reference: reference ? { source: 'training', rows: 120 } : null,
    window: { rows: traffic ? 500 : 0, requests: last?.requests ?? 0, from: last?.from ?? null, to: last?.to ?? null },
    traffic: { requests: history.reduce((n, w) => n + w.requests, 0), errors: 3, errorRate: traffic ? 3 / history.reduce((n, w) => n + w.requests, 0) : 0, p50Ms: last?.p50Ms ?? null, p95Ms: last?.p95Ms ?? null },
    thresholds: [
      { label: 'PSI', value: '0.2 (default)' },
      { label: 'KS alpha', value: '0.05, Bonferroni over features (default)' },
    ],
    psiThreshold: 0.2,
    drifted: features.some((f) => f.drifted),
    features,
    prediction: reference && traffic ? { psi: last!.predictionPsi, drifted: (last!.predictionPsi ?? 0) >= 0.2, histogram: { labels: ['setosa', 'versicolor', 'virginica'], reference: [0.33, 0.34, 0.33], current: drifted.size ? [0.2, 0.3, 0.5] : [0.32, 0.35, 0.33] } } : null,
    performance: accuracy === null ? null : { labeled: 960, metrics: [{ name: 'accuracy', value: accuracy }, { name: 'f1', value: accuracy - 0.02 }, { name: 'precision', value: accuracy - 0.01 }, { name: 'recall', value: accuracy - 0.03 }] },
    gates: [{ text: 'accuracy>=0.9', actual: accuracy, passed: accuracy === null ? null : accuracy >= 0.9 }],
    history,
    notes: [],
  };
}
