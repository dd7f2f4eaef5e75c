// The Monitor panel: one deployment's traffic, drift, data quality and live accuracy, redrawn
// whenever the host sends a fresh report. Every string from the host (feature names, model names,
// errors) is set as text, never as markup; controls are native, so all are keyboard reachable.
import type { FeatureView, HostMessage, MonitorAction, MonitorView, MonitorViewState, RenderedReport, WebviewMessage } from '../../src/shared/monitorProtocol.ts';
import { clear, formatClock, formatNumber, h, icon } from '../compare/dom.ts';
import { readTheme } from '../compare/theme.ts';
import { hostChannel } from '../shared/vscodeApi.ts';
import { accuracyChart, destroyCharts, histogramChart, latencyChart, trafficChart } from './charts.ts';
import { heatmap } from './heatmap.ts';
import './monitor.css';

const { post, savedView, saveView } = hostChannel<WebviewMessage, MonitorViewState>();
const app = document.getElementById('app')!;
let view: MonitorView | undefined;
let selected: string | null = savedView()?.feature ?? null;

const percent = (x: number): string => `${formatNumber(Math.round(x * 1000) / 10)}%`;
const ms = (x: number | null): string => (x === null ? '—' : `${formatNumber(x < 10 ? Math.round(x * 10) / 10 : Math.round(x))} ms`);
const fixed = (x: number | null, digits = 3): string => (x === null ? '—' : formatNumber(+x.toFixed(digits)));
const pValue = (p: number | null): string => (p !== null && p > 0 && p < 1e-4 ? '< 0.0001' : fixed(p, 4));
/** A list of names for a line of text: the first few, then how many more. */
const few = (names: readonly string[], shown = 4): string => (names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`);

function render(v: MonitorView): void {
  const started = performance.now();
  const focusedId = document.activeElement?.id;
  view = v;
  if (!v.features.some((f) => f.name === selected)) selected = v.features.find((f) => f.drifted)?.name ?? v.features[0]?.name ?? null;
  saveView({ deployment: v.deployment.id, feature: selected });
  destroyCharts();
  clear(app);
  app.setAttribute('aria-busy', 'false');
  const theme = readTheme(6);
  const empty: string[] = [];

  app.append(header(v));
  for (const note of v.notes) app.append(h('p', { class: 'note', text: note }));
  app.append(cards(v));

  const noTraffic = v.history.length === 0 && v.window.requests === 0;
  app.append(
    section('traffic', 'Traffic, errors and latency', () => {
      if (noTraffic) return emptyState(empty, 'traffic', 'No traffic yet: this deployment has not served a request.');
      const [a, b] = [canvas('Requests and errors per window'), canvas('Latency p50 and p95 per window')];
      queueMicrotask(() => {
        trafficChart(a.canvas, v.history, theme);
        latencyChart(b.canvas, v.history, theme);
      });
      return h('div', { class: 'pair' }, a.box, b.box);
    }),
  );

  const noReference = v.reference === null;
  const referenceHint = 'No reference yet: log one in training with runboard.log_reference(X, y), or serve enough rows for a baseline.';
  app.append(
    section('drift', 'Drift by feature over windows', () => {
      if (noReference) return emptyState(empty, 'drift', referenceHint);
      if (v.features.length === 0 || v.history.length === 0) return emptyState(empty, 'drift', 'No served rows to compare with the reference yet.');
      return heatmap(v, selected, (name) => select(name, true));
    }),
  );

  app.append(
    section('histogram', 'Reference vs current', () => {
      if (noReference) return emptyState(empty, 'histogram', referenceHint);
      if (v.features.length === 0) return emptyState(empty, 'histogram', 'No features recorded yet.');
      const feature = v.features.find((f) => f.name === selected)!;
      const picker = h('select', { id: 'feature-select', 'aria-label': 'Feature shown in the histogram' });
      for (const f of v.features) {
        const option = h('option', { value: f.name, text: `${f.drifted ? '⚠ ' : ''}${f.name}` });
        option.selected = f.name === selected;
        picker.append(option);
      }
      picker.addEventListener('change', () => select(picker.value, false));
      const chart = canvas(`Histogram of ${feature.name}, reference and current window`);
      const body = h('div', {}, h('label', { class: 'picker' }, 'Feature ', picker), h('p', { class: 'stats', text: featureLine(feature) }));
      if (feature.histogram) {
        queueMicrotask(() => histogramChart(chart.canvas, feature.histogram!, theme));
        body.append(chart.box);
      } else body.append(emptyState(empty, 'histogram', `No rows of ${feature.name} in this window.`));
      return body;
    }),
  );

  app.append(
    section('prediction', 'Prediction distribution', () => {
      const p = v.prediction;
      if (!p?.histogram) return emptyState(empty, 'prediction', noTraffic ? 'No predictions yet.' : 'No predictions to compare with the reference yet.');
      const chart = canvas('Predictions of the reference and of the current window');
      queueMicrotask(() => histogramChart(chart.canvas, p.histogram!, theme, 'share of predictions'));
      return h('div', {}, h('p', { class: 'stats', text: `PSI ${fixed(p.psi)}${p.drifted ? ' · drifted' : ''}` }), chart.box);
    }),
  );

  app.append(
    section('performance', 'Live accuracy', () => {
      if (!v.performance) return emptyState(empty, 'performance', 'No feedback yet: send the true labels to POST /feedback with the ids /predict returned.');
      const list = h('dl', { class: 'metrics' });
      list.append(h('dt', { text: 'labelled rows' }), h('dd', { text: formatNumber(v.performance.labeled) }));
      for (const m of v.performance.metrics) list.append(h('dt', { text: m.name }), h('dd', { text: fixed(m.value) }));
      const body = h('div', {}, list);
      if (v.history.some((w) => w.accuracy !== null)) {
        const chart = canvas('Accuracy of the labelled rows per window');
        queueMicrotask(() => accuracyChart(chart.canvas, v.history, theme));
        body.append(chart.box);
      }
      return body;
    }),
  );

  app.append(section('quality', 'Data quality', () => (v.features.length === 0 ? emptyState(empty, 'quality', 'No features recorded yet.') : qualityTable(v.features))));
  app.append(section('thresholds', 'Thresholds and gates', () => thresholds(v)));

  if (focusedId) document.getElementById(focusedId)?.focus();
  // Charts draw in the microtasks queued above; report once they have.
  queueMicrotask(() => {
    const cells = app.querySelectorAll('.heatmap td.cell');
    const report: RenderedReport = {
      deployment: v.deployment.id,
      feature: selected,
      cells: cells.length,
      driftedCells: app.querySelectorAll('.heatmap td.cell.drifted').length,
      empty,
      ms: Math.round(performance.now() - started),
    };
    post({ type: 'rendered', report });
  });
}

function header(v: MonitorView): HTMLElement {
  const d = v.deployment;
  const drifted = v.features.filter((f) => f.drifted).map((f) => f.name);
  const badge = v.reference === null ? h('span', { class: 'badge none', text: 'no reference' }) : v.drifted ? h('span', { class: 'badge drifted' }, icon('warning'), ` Drift: ${few(drifted) || 'predictions'}`) : h('span', { class: 'badge ok' }, icon('pass'), ' No drift');
  const failed = v.gates.filter((g) => g.passed === false);
  const facts = [
    `deployment ${d.id} · ${d.target} · ${d.status}`,
    d.url ?? '',
    v.reference ? `reference: ${v.reference.source === 'training' ? 'training sample' : 'baseline of served rows'}, ${formatNumber(v.reference.rows)} rows` : '',
    `window: ${formatNumber(v.window.rows)} rows, ${formatNumber(v.window.requests)} requests${v.window.from !== null && v.window.to !== null ? `, ${formatClock(v.window.from, v.window.to - v.window.from)} – ${formatClock(v.window.to, v.window.to - v.window.from)}` : ''}`,
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

function cards(v: MonitorView): HTMLElement {
  const t = v.traffic;
  const accuracy = v.performance?.metrics.find((m) => m.name === 'accuracy');
  const card = (label: string, value: string, alert = false) => h('div', { class: `card${alert ? ' alert' : ''}` }, h('div', { class: 'value', text: value }), h('div', { class: 'label', text: label }));
  return h(
    'div',
    { class: 'cards', role: 'group', 'aria-label': 'Summary of the current window' },
    card('requests', formatNumber(t.requests)),
    card('error rate', percent(t.errorRate), t.errorRate > 0),
    card('p50 latency', ms(t.p50Ms)),
    card('p95 latency', ms(t.p95Ms)),
    card('drifted features', v.reference ? `${v.features.filter((f) => f.drifted).length} of ${v.features.length}` : '—', v.drifted),
    card('accuracy', accuracy ? fixed(accuracy.value) : '—'),
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

function featureLine(f: FeatureView): string {
  return [`${f.kind}`, `PSI ${fixed(f.psi)}`, `p-value ${pValue(f.pValue)}`, f.drifted ? 'drifted' : 'not drifted'].join(' · ');
}

function qualityTable(features: readonly FeatureView[]): HTMLElement {
  const head = h('tr', {}, ...['feature', 'kind', 'PSI', 'p-value', 'drift', 'rows', 'missing', 'out of range', 'unseen'].map((t) => h('th', { scope: 'col', text: t })));
  const rows = features.map((f) => {
    const q = f.quality;
    const share = (n: number) => (q.rows ? `${formatNumber(n)} (${percent(n / q.rows)})` : formatNumber(n));
    return h(
      'tr',
      { class: f.drifted ? 'drifted' : null },
      h('th', { scope: 'row', class: 'name', text: f.name, title: f.name }),
      h('td', { text: f.kind }),
      h('td', { class: 'num', text: fixed(f.psi) }),
      h('td', { class: 'num', text: pValue(f.pValue) }),
      h('td', { text: f.drifted ? 'drifted' : '' }),
      h('td', { class: 'num', text: formatNumber(q.rows) }),
      h('td', { class: `num${q.missing ? ' warn' : ''}`, text: share(q.missing) }),
      h('td', { class: `num${q.outOfRange ? ' warn' : ''}`, text: share(q.outOfRange) }),
      h('td', { class: `num${q.unseen ? ' warn' : ''}`, text: share(q.unseen) }),
    );
  });
  return h('div', { class: 'scroll' }, h('table', { class: 'quality' }, h('thead', {}, head), h('tbody', {}, ...rows)));
}

function thresholds(v: MonitorView): HTMLElement {
  const list = h('dl', { class: 'metrics' });
  for (const t of v.thresholds) list.append(h('dt', { text: t.label }), h('dd', { text: t.value }));
  const gates = h('ul', { class: 'gates' });
  for (const g of v.gates) {
    const state = g.passed === null ? 'pending' : g.passed ? 'passed' : 'failed';
    gates.append(h('li', { class: state }, icon(g.passed === null ? 'circle-large-outline' : g.passed ? 'pass' : 'error'), ` ${g.text}: ${g.actual === null ? 'no value yet' : fixed(g.actual)} (${state})`));
  }
  return h('div', {}, list, v.gates.length ? gates : h('p', { class: 'empty', text: 'No gates configured: add monitor.gates to the deploy config or profile, e.g. ["accuracy>=0.9"].' }));
}

/** A new feature in the histogram; from the heatmap, the picker takes focus so the keyboard stays in reach. */
function select(name: string, focusPicker: boolean): void {
  if (!view || name === selected) return;
  selected = name;
  render(view);
  if (focusPicker) document.getElementById('feature-select')?.focus();
}

function showError(message: string): void {
  app.setAttribute('aria-busy', 'false');
  const box = h('p', { class: 'error', role: 'alert', text: message });
  const existing = app.querySelector('.error');
  if (existing) existing.replaceWith(box);
  else app.prepend(box);
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'report':
      render(message.view);
      return;
    case 'error':
      showError(message.message);
      return;
    default: {
      const never: never = message;
      post({ type: 'error', message: `Unknown message ${JSON.stringify(never)}` });
    }
  }
});

window.addEventListener('error', (e) => post({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));
document.addEventListener('securitypolicyviolation', (e) => post({ type: 'error', message: `CSP blocked ${e.blockedURI || 'inline'} (${e.violatedDirective})` }));
post({ type: 'ready' });
