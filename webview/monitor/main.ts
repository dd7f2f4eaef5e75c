// The Monitor panel: one deployment's traffic, drift, data quality and live accuracy, redrawn
// whenever the host sends a fresh report. Every string from the host (feature names, model names,
// errors) is set as text, never as markup; controls are native, so all are keyboard reachable.
import type { FeatureDrift, FeatureQuality, Histogram, MonitorReport } from '../../src/core/monitor/report.ts';
import type { HostMessage, MonitorAction, MonitoredDeployment, MonitorViewState, RenderedReport, WebviewMessage } from '../../src/shared/monitorProtocol.ts';
import { clear, formatClock, formatNumber, h, icon } from '../compare/dom.ts';
import { readTheme } from '../compare/theme.ts';
import { reportPageErrors, showPageError } from '../shared/pageErrors.ts';
import { hostChannel } from '../shared/vscodeApi.ts';
import { accuracyChart, destroyCharts, histogramChart, latencyChart, trafficChart } from './charts.ts';
import { heatmap } from './heatmap.ts';
import './monitor.css';

const { post, savedView, saveView } = hostChannel<WebviewMessage, MonitorViewState>();
const app = document.getElementById('app')!;
let shown: { deployment: MonitoredDeployment; report: MonitorReport } | undefined;
let selected: string | null = savedView()?.feature ?? null;

/** One feature with what the report says of it (any part may be missing, e.g. before a reference is ready). */
interface Feature {
  name: string;
  drift: FeatureDrift | undefined;
  quality: FeatureQuality | undefined;
  histogram: Histogram | undefined;
}

const percent = (x: number): string => `${formatNumber(Math.round(x * 1000) / 10)}%`;
const ms = (x: number | null): string => (x === null ? '—' : `${formatNumber(x < 10 ? Math.round(x * 10) / 10 : Math.round(x))} ms`);
const fixed = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '—' : formatNumber(+x.toFixed(digits)));
const pValue = (p: number | null | undefined): string => (p !== null && p !== undefined && p > 0 && p < 1e-4 ? '< 0.0001' : fixed(p, 4));
/** A list of names for a line of text: the first few, then how many more. */
const few = (names: readonly string[], shown = 4): string => (names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`);

/** The features in reference order, then any the window alone has. */
function featuresOf(r: MonitorReport): Feature[] {
  const names = [...new Set([...(r.reference?.features ?? []), ...r.history.features, ...(r.drift?.features ?? []).map((f) => f.name), ...r.quality.map((q) => q.name)])];
  return names.map((name) => ({
    name,
    drift: r.drift?.features.find((f) => f.name === name),
    quality: r.quality.find((q) => q.name === name),
    histogram: r.histograms.find((hg) => hg.name === name),
  }));
}

/** Why drift cannot be shown yet, or null when it can. */
function noDriftReason(r: MonitorReport): string | null {
  if (!r.reference) return 'No monitoring data: only a deployment served by Runboard\'s local model server records its inputs and outputs.';
  if (!r.reference.ready) {
    const of = r.reference.baselineRows === null ? '' : ` of ${formatNumber(r.reference.baselineRows)}`;
    return `Collecting a baseline reference: ${formatNumber(r.reference.rows)}${of} served rows so far; drift is reported once it is complete. Log a reference in training with runboard.log_reference(X, y) to have one from the start.`;
  }
  if (!r.drift) return 'No served rows to compare with the reference yet.';
  return null;
}

function render(deployment: MonitoredDeployment, r: MonitorReport): void {
  const started = performance.now();
  const focusedId = document.activeElement?.id;
  shown = { deployment, report: r };
  const features = featuresOf(r);
  if (!features.some((f) => f.name === selected)) selected = features.find((f) => f.drift?.drifted)?.name ?? features[0]?.name ?? null;
  saveView({ deployment: deployment.id, feature: selected });
  // A live refresh redraws everything: where the reader had scrolled stays where it was.
  const scrolled = [...app.querySelectorAll<HTMLElement>('section .scroll')].map((e) => ({ section: e.closest('section')!.id, top: e.scrollTop, left: e.scrollLeft }));
  const pageY = window.scrollY;
  destroyCharts();
  clear(app);
  app.setAttribute('aria-busy', 'false');
  const theme = readTheme(6);
  const empty: string[] = [];
  const points = r.history.points;

  app.append(header(deployment, r, features));
  for (const note of r.notes) app.append(h('p', { class: 'note', text: note }));
  app.append(cards(r, features));

  const noTraffic = points.length === 0 && r.traffic.requests === 0;
  app.append(
    section('traffic', 'Traffic, errors and latency', () => {
      if (noTraffic) return emptyState(empty, 'traffic', 'No traffic yet: this deployment has not served a request.');
      const [a, b] = [canvas('Requests and errors per window'), canvas('Latency p50 and p95 per window')];
      queueMicrotask(() => {
        trafficChart(a.canvas, points, theme);
        latencyChart(b.canvas, points, theme);
      });
      return h('div', { class: 'pair' }, a.box, b.box);
    }),
  );

  const driftBlocked = noDriftReason(r);
  app.append(
    section('drift', 'Drift by feature over windows', () => {
      if (driftBlocked) return emptyState(empty, 'drift', driftBlocked);
      if (r.history.features.length === 0 || points.length === 0) return emptyState(empty, 'drift', 'No windows to show yet.');
      return heatmap(r, selected, (name) => select(name, true));
    }),
  );

  app.append(
    section('histogram', 'Reference vs current', () => {
      if (driftBlocked) return emptyState(empty, 'histogram', driftBlocked);
      if (features.length === 0) return emptyState(empty, 'histogram', 'No features recorded yet.');
      const feature = features.find((f) => f.name === selected)!;
      const picker = h('select', { id: 'feature-select', 'aria-label': 'Feature shown in the histogram' });
      for (const f of features) {
        const option = h('option', { value: f.name, text: `${f.drift?.drifted ? '⚠ ' : ''}${f.name}` });
        option.selected = f.name === selected;
        picker.append(option);
      }
      picker.addEventListener('change', () => select(picker.value, false));
      const body = h('div', {}, h('label', { class: 'picker' }, 'Feature ', picker), h('p', { class: 'stats', text: featureLine(feature) }));
      if (feature.histogram) {
        const chart = canvas(`Histogram of ${feature.name}, reference and current window`);
        const histogram = feature.histogram;
        queueMicrotask(() => histogramChart(chart.canvas, histogram, theme));
        body.append(chart.box);
      } else body.append(emptyState(empty, 'histogram', `No histogram of ${feature.name} in this window.`));
      return body;
    }),
  );

  app.append(
    section('prediction', 'Prediction distribution', () => {
      const p = r.prediction;
      if (!p) return emptyState(empty, 'prediction', 'No predictions yet.');
      const chart = canvas('Predictions of the reference and of the current window');
      queueMicrotask(() => histogramChart(chart.canvas, p, theme, 'share of predictions'));
      const drift = r.drift?.prediction;
      return h('div', {}, h('p', { class: 'stats', text: drift ? `PSI ${fixed(drift.psi)}${drift.drifted ? ' · drifted' : ''}` : 'No reference predictions to compare with.' }), chart.box);
    }),
  );

  app.append(
    section('performance', 'Live performance', () => {
      const perf = r.performance;
      if (!perf) return emptyState(empty, 'performance', 'No feedback yet: send the true labels to POST /feedback with the ids /predict returned.');
      const list = h('dl', { class: 'metrics' });
      list.append(h('dt', { text: 'labelled rows' }), h('dd', { text: formatNumber(perf.labeled) }));
      const metrics: [string, number | null][] = [['accuracy', perf.accuracy], ['precision (macro)', perf.precision], ['recall (macro)', perf.recall], ['F1 (macro)', perf.f1], ['MAE', perf.mae], ['RMSE', perf.rmse]];
      for (const [name, value] of metrics) if (value !== null) list.append(h('dt', { text: name }), h('dd', { text: fixed(value) }));
      const body = h('div', {}, list);
      if (points.some((p) => p.accuracy !== null)) {
        const chart = canvas('Accuracy of the labelled rows per window');
        queueMicrotask(() => accuracyChart(chart.canvas, points, theme));
        body.append(chart.box);
      }
      if (perf.confusion) body.append(confusionTable(perf.confusion.labels, perf.confusion.matrix));
      return body;
    }),
  );

  app.append(section('quality', 'Data quality', () => (r.quality.length === 0 ? emptyState(empty, 'quality', 'No served rows yet.') : qualityTable(features))));
  app.append(section('thresholds', 'Thresholds and gates', () => thresholds(r)));

  for (const { section, top, left } of scrolled) {
    const box = document.querySelector<HTMLElement>(`#${section} .scroll`);
    if (box) [box.scrollTop, box.scrollLeft] = [top, left];
  }
  window.scrollTo(window.scrollX, pageY);
  if (focusedId) document.getElementById(focusedId)?.focus({ preventScroll: true });
  // Charts draw in the microtasks queued above; report once they have.
  queueMicrotask(() => {
    const report: RenderedReport = {
      deployment: deployment.id,
      feature: selected,
      cells: app.querySelectorAll('.heatmap td.cell').length,
      driftedCells: app.querySelectorAll('.heatmap td.cell.drifted').length,
      empty,
      ms: Math.round(performance.now() - started),
    };
    post({ type: 'rendered', report });
  });
}

function header(d: MonitoredDeployment, r: MonitorReport, features: readonly Feature[]): HTMLElement {
  const drifted = features.filter((f) => f.drift?.drifted).map((f) => f.name);
  const badge =
    !r.reference || !r.reference.ready || !r.drift
      ? h('span', { class: 'badge none', text: !r.reference ? 'no monitoring data' : !r.reference.ready ? 'collecting a baseline' : 'no drift data yet' })
      : r.drift.drifted
        ? h('span', { class: 'badge drifted' }, icon('warning'), ` Drift: ${few(drifted) || 'predictions'}`)
        : h('span', { class: 'badge ok' }, icon('pass'), ' No drift');
  // Drift has its own badge: this one counts the live-metric gates that failed on a value.
  const failed = r.gates.results.filter((g) => !g.ok && g.condition !== 'drift' && g.actual !== null);
  const w = r.window;
  const facts = [
    `deployment ${d.id} · ${d.target} · ${d.status}`,
    d.url ?? '',
    r.reference ? `reference: ${r.reference.source === 'training' ? 'training sample' : 'baseline of served rows'}, ${formatNumber(r.reference.rows)} rows` : '',
    `window: ${formatNumber(w.rows)} rows, ${formatNumber(w.requests)} requests${w.from !== null && w.to !== null ? `, ${formatClock(w.from, w.to - w.from)} – ${formatClock(w.to, w.to - w.from)}` : ''}`,
  ].filter(Boolean);
  const actions = h(
    'div',
    { class: 'actions' },
    button('retrain', 'Retrain from Production Data', 'debug-restart'),
    d.version > 1 ? button('rollback', 'Roll Back', 'discard') : null,
    button('lineage', 'Show Lineage', 'type-hierarchy'),
  );
  return h(
    'header',
    {},
    h('div', { class: 'title' }, h('h1', { text: `${d.model}@${d.version}` }), badge, failed.length ? h('span', { class: 'badge drifted' }, icon('error'), ` ${failed.length} gate${failed.length > 1 ? 's' : ''} failing`) : null),
    h('p', { class: 'facts', text: facts.join(' · ') }),
    actions,
  );
}

function button(action: MonitorAction, label: string, codicon: string): HTMLButtonElement {
  const b = h('button', { type: 'button', id: `action-${action}`, class: action === 'retrain' ? 'primary' : 'secondary' }, icon(codicon), ` ${label}`);
  b.addEventListener('click', () => post({ type: 'action', action }));
  return b;
}

function cards(r: MonitorReport, features: readonly Feature[]): HTMLElement {
  const t = r.traffic;
  const card = (label: string, value: string, alert = false) => h('div', { class: `card${alert ? ' alert' : ''}` }, h('div', { class: 'value', text: value }), h('div', { class: 'label', text: label }));
  return h(
    'div',
    { class: 'cards', role: 'group', 'aria-label': 'Summary of the current window' },
    card('requests', formatNumber(t.requests)),
    card('error rate', percent(t.errorRate), t.errorRate > 0),
    card('p50 latency', ms(t.p50Ms)),
    card('p95 latency', ms(t.p95Ms)),
    card('drifted features', r.drift ? `${features.filter((f) => f.drift?.drifted).length} of ${r.drift.features.length}` : '—', r.drift?.drifted ?? false),
    card('accuracy', fixed(r.performance?.accuracy)),
  );
}

function section(id: string, title: string, body: () => HTMLElement): HTMLElement {
  return h('section', { id: `section-${id}`, 'aria-labelledby': `heading-${id}` }, h('h2', { id: `heading-${id}`, text: title }), body());
}

function emptyState(empty: string[], section: string, text: string): HTMLElement {
  empty.push(section);
  return h('p', { class: 'empty', text });
}

function canvas(label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const c = h('canvas', { role: 'img', 'aria-label': label });
  return { box: h('div', { class: 'chart' }, c), canvas: c };
}

function featureLine(f: Feature): string {
  const d = f.drift;
  if (!d) return 'No drift test for this feature in this window.';
  const stat = d.kind === 'numeric' ? `KS D ${fixed(d.ks)}` : `Jensen–Shannon ${fixed(d.js)}`;
  return [d.kind, `PSI ${fixed(d.psi)}`, stat, `p-value ${pValue(d.pValue)} (Holm ${pValue(d.adjustedP)})`, d.drifted ? `drifted: ${d.reasons.join('; ')}` : 'not drifted'].join(' · ');
}

function qualityTable(features: readonly Feature[]): HTMLElement {
  const head = h('tr', {}, ...['feature', 'kind', 'PSI', 'p-value (Holm)', 'drift', 'rows', 'missing', 'out of range', 'unseen', 'min', 'max'].map((t) => h('th', { scope: 'col', text: t })));
  const share = (n: number, rate: number) => (n ? `${formatNumber(n)} (${percent(rate)})` : '0');
  const rows = features.map((f) => {
    const q = f.quality;
    const drifted = f.drift?.drifted ?? false;
    return h(
      'tr',
      { class: drifted ? 'drifted' : null },
      h('th', { scope: 'row', class: 'name', text: f.name, title: f.name }),
      h('td', { text: f.drift?.kind ?? q?.kind ?? '' }),
      h('td', { class: 'num', text: fixed(f.drift?.psi) }),
      h('td', { class: 'num', text: pValue(f.drift?.adjustedP) }),
      h('td', { text: drifted ? 'drifted' : '', title: f.drift?.reasons.join('; ') || null }),
      h('td', { class: 'num', text: q ? formatNumber(q.count) : '—' }),
      h('td', { class: `num${q?.missing ? ' warn' : ''}`, text: q ? share(q.missing, q.missingRate) : '—' }),
      h('td', { class: `num${q?.outOfRange ? ' warn' : ''}`, text: q ? share(q.outOfRange, q.outOfRangeRate) : '—' }),
      h('td', { class: `num${q?.unseen ? ' warn' : ''}`, text: q ? share(q.unseen, q.unseenRate) : '—' }),
      h('td', { class: 'num', text: fixed(q?.min) }),
      h('td', { class: 'num', text: fixed(q?.max) }),
    );
  });
  return h('div', { class: 'scroll' }, h('table', { class: 'quality' }, h('thead', {}, head), h('tbody', {}, ...rows)));
}

function confusionTable(labels: readonly string[], matrix: readonly number[][]): HTMLElement {
  const head = h('tr', {}, h('th', { scope: 'col', text: 'actual \\ predicted' }), ...labels.map((l) => h('th', { scope: 'col', text: l })));
  const rows = labels.map((label, i) => h('tr', {}, h('th', { scope: 'row', text: label }), ...labels.map((_, j) => h('td', { class: `num${i === j ? ' diagonal' : ''}`, text: formatNumber(matrix[i]?.[j] ?? 0) }))));
  return h('div', { class: 'scroll confusion' }, h('table', { class: 'quality', 'aria-label': 'Confusion matrix of the labelled rows' }, h('thead', {}, head), h('tbody', {}, ...rows)));
}

function thresholds(r: MonitorReport): HTMLElement {
  const t = r.gates.thresholds;
  const list = h('dl', { class: 'metrics' });
  const rows: [string, string][] = [
    ['PSI', `drifted at ≥ ${t.psi}`],
    ['test alpha', `${t.ksAlpha} across features (${r.drift?.correction ?? 'holm'} correction)`],
    ['from', r.gates.source],
  ];
  for (const [label, value] of rows) list.append(h('dt', { text: label }), h('dd', { text: value }));
  const gates = h('ul', { class: 'gates' });
  for (const g of r.gates.results) {
    // A gate without a value yet (no feedback) has not failed: it waits.
    const state = g.ok ? 'passed' : g.actual === null ? 'pending' : 'failed';
    gates.append(h('li', { class: state }, icon({ passed: 'pass', pending: 'circle-large-outline', failed: 'error' }[state]), ` ${g.condition}: ${g.reason}`));
  }
  return h('div', {}, list, r.gates.results.length ? gates : h('p', { class: 'empty', text: 'No gates configured: add monitor.gates to the deploy config or profile, e.g. ["accuracy>=0.9"].' }));
}

/** A new feature in the histogram; from the heatmap, the picker takes focus so the keyboard stays in reach. */
function select(name: string, focusPicker: boolean): void {
  if (!shown || name === selected) return;
  selected = name;
  render(shown.deployment, shown.report);
  if (focusPicker) document.getElementById('feature-select')?.focus();
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'report':
      app.querySelector('.error')?.remove();
      render(message.deployment, message.report);
      return;
    case 'error':
      showPageError(app, message.message);
      return;
    default: {
      const never: never = message;
      post({ type: 'error', message: `Unknown message ${JSON.stringify(never)}` });
    }
  }
});

reportPageErrors(post);
post({ type: 'ready' });
