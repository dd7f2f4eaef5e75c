// The Compare panel's webview: charts, table, parallel coordinates, scatter and evaluations over the
// runs the host chose. Everything arrives by message (src/shared/compareProtocol.ts); user text is
// only ever set as text (see dom.ts).
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import './compare.css';
import {
  DEFAULT_POINTS,
  defaultViewState,
  NO_GROUP,
  orderGroups,
  TABS,
  type CompareState,
  type Direction,
  type HostMessage,
  type RenderedReport,
  type TableData,
  type Tab,
  type ViewState,
  type WebviewMessage,
  type XAxis,
  type XRange,
} from '../../src/shared/compareProtocol.ts';
import { AXIS_LABELS, MetricChart, type ChartHost } from './charts.ts';
import { clear, el, h, icon } from './dom.ts';
import { EvaluationView } from './evaluation.ts';
import { ParallelPlot, ScatterPlot, type PlotHost } from './plots.ts';
import { RunTable } from './table.ts';
import { readTheme, rgba, type Rgb, type Theme } from './theme.ts';
import { hostChannel } from '../shared/vscodeApi.ts';

type SelectElement = HTMLElement & { value: string };
type MultiSelectElement = HTMLElement & { value: string[] };
type CheckboxElement = HTMLElement & { checked: boolean };

const { post, savedView, saveView } = hostChannel<WebviewMessage, ViewState>();

let view: ViewState = { ...defaultViewState(), ...(savedView() ?? {}) };
let state: CompareState | null = null;
let table: TableData | null = null;
let theme: Theme = readTheme(1);
let colors = new Map<number, Rgb>();
let names = new Map<number, string>();
let requestSeq = 0;
const charts = new Map<string, MetricChart>();

// ── persistence ─────────────────────────────────────────────────────────────
let viewTimer: ReturnType<typeof setTimeout> | undefined;
function setView(patch: Partial<ViewState>): void {
  view = { ...view, ...patch };
  saveView(view);
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => post({ type: 'view', view }), 150);
}

function report(r: RenderedReport): void {
  post({ type: 'rendered', report: r });
}

// ── layout ──────────────────────────────────────────────────────────────────
const app = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));
const summary = h('span', { class: 'summary', 'aria-live': 'polite' });
const liveBadge = h('span', { class: 'badge live', hidden: true }, icon('pulse'), ' live');
const notice = h('div', { class: 'notice', role: 'status', hidden: true });
const runList = h('ul', { class: 'run-items' });
const runCount = h('span', { class: 'muted' });
const showAll = h('button', { class: 'link-button', type: 'button', text: 'Show all' });
showAll.addEventListener('click', () => {
  setView({ hidden: [] });
  refreshVisibility();
});

const metricSelect = el('vscode-multi-select', { 'aria-label': 'Metrics to chart', class: 'metric-select' }) as MultiSelectElement;
const axisSelect = el('vscode-single-select', { 'aria-label': 'X axis' }) as SelectElement;
const groupSelect = el('vscode-single-select', { 'aria-label': 'Group runs by param' }) as SelectElement;
const smoothing = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, 'aria-label': 'Smoothing (exponential moving average)', class: 'slider' });
const smoothingValue = h('output', { class: 'slider-value' });
const logY = el('vscode-checkbox', { label: 'Log y' }) as CheckboxElement;
const resetZoom = el('vscode-button', { secondary: true, icon: 'zoom-out', title: 'Show the whole series (double-click a chart, or press 0 on it)' }, 'Reset zoom');
const chartGrid = h('div', { class: 'chart-grid' });
const chartHint = h('p', { class: 'caption', text: 'Drag across a chart to zoom (the host re-reads that range at full resolution); click a line to highlight its run.' });

const plotMetricSelect = el('vscode-single-select', { 'aria-label': 'Metric' }) as SelectElement;
const aggregateSelect = el('vscode-single-select', { 'aria-label': 'Metric summary' }) as SelectElement;
const scatterMetricSelect = el('vscode-single-select', { 'aria-label': 'Metric' }) as SelectElement;
const scatterAggregateSelect = el('vscode-single-select', { 'aria-label': 'Metric summary' }) as SelectElement;
const scatterParamSelect = el('vscode-single-select', { 'aria-label': 'Param' }) as SelectElement;

const chartHost: ChartHost = {
  theme: () => theme,
  view: () => view,
  runIds: () => state?.runs.map((r) => r.id) ?? [],
  colorOf: (id) => colors.get(id) ?? theme.palette[0]!,
  groupColor: (group) => groupColor(group),
  nameOf: (id) => names.get(id) ?? `run ${id}`,
  replacedOf: (id, metric) => {
    const replaced = state?.runs.find((r) => r.id === id)?.replaced;
    return replaced && Object.hasOwn(replaced, metric) ? replaced[metric]! : 0;
  },
  zoom: (range) => zoomTo(range),
  highlight: (id) => highlight(id, true),
  exportPng: (metric, dataUrl) => post({ type: 'exportPng', name: metric, dataUrl }),
  exportCsv: (metric) => post({ type: 'exportCsv', what: 'series', query: queryFor(metric) }),
  report,
};

const runTable = new RunTable({
  view: () => view,
  colorOf: chartHost.colorOf,
  setSort: (sort) => {
    setView({ sort });
    renderTable();
  },
  highlight: (id) => highlight(id, true),
  setDirection: (metric, direction) => {
    const directions: Record<string, Direction> = { ...view.directions, [metric]: direction };
    setView({ directions });
    post({ type: 'setDirections', directions });
  },
  codeDiff: (a, b) => post({ type: 'showCodeDiff', runIds: [a, b] }),
  exportCsv: () => post({ type: 'exportCsv', what: 'table' }),
  setOnlyDiffering: (only) => {
    setView({ onlyDiffering: only });
    renderTable();
  },
  nonfiniteOf: (id, metric) => {
    const nonfinite = state?.runs.find((r) => r.id === id)?.nonfinite;
    return nonfinite && Object.hasOwn(nonfinite, metric) ? nonfinite[metric] : undefined;
  },
});

const plotHost: PlotHost = {
  view: () => view,
  theme: () => theme,
  runIds: chartHost.runIds,
  colorOf: chartHost.colorOf,
  nameOf: chartHost.nameOf,
  paramOf: (id, p) => {
    const params = state?.runs.find((r) => r.id === id)?.params;
    return params && Object.hasOwn(params, p) ? params[p] : undefined;
  },
  metricValue: (id, metric) => {
    if (!table) return null;
    const aggregate = view.aggregate === 'best' ? 'best' : 'last';
    const col = table.columns.findIndex((c) => c.id === `metric.${aggregate}.${metric}`);
    const v = col < 0 ? null : table.rows.find((r) => r.runId === id)?.cells[col];
    return typeof v === 'number' ? v : null;
  },
  // A param with one value among the runs that have it draws a flat, useless axis.
  axisParams: () => state?.varyingParams ?? [],
  highlight: (id) => highlight(id, true),
  report,
};
const parallel = new ParallelPlot(plotHost);
const scatter = new ScatterPlot(plotHost);
const evaluation = new EvaluationView({
  view: () => view,
  theme: () => theme,
  colorOf: chartHost.colorOf,
  nameOf: chartHost.nameOf,
  setNormalize: (on) => {
    setView({ normalizeConfusion: on });
    evaluation.render();
  },
  report,
});

const TAB_LABELS: Record<Tab, string> = { charts: 'Charts', table: 'Table', parallel: 'Parallel coordinates', scatter: 'Scatter', evaluation: 'Evaluation' };
const tabs = el('vscode-tabs', { 'selected-index': Math.max(0, TABS.indexOf(view.tab)) });
const panels: Record<Tab, HTMLElement> = {
  charts: h(
    'div',
    { class: 'panel-body' },
    h(
      'div',
      { class: 'toolbar' },
      field('Metrics', metricSelect),
      field('X axis', axisSelect),
      field('Group by', groupSelect),
      field('Smoothing', h('span', { class: 'slider-wrap' }, smoothing, smoothingValue)),
      logY,
      resetZoom,
    ),
    chartGrid,
    chartHint,
  ),
  table: h('div', { class: 'panel-body' }, runTable.root),
  parallel: h('div', { class: 'panel-body' }, h('div', { class: 'toolbar' }, field('Metric', plotMetricSelect), field('Value', aggregateSelect)), parallel.root),
  scatter: h(
    'div',
    { class: 'panel-body' },
    h('div', { class: 'toolbar' }, field('Param', scatterParamSelect), field('Metric', scatterMetricSelect), field('Value', scatterAggregateSelect)),
    scatter.root,
  ),
  evaluation: h('div', { class: 'panel-body' }, evaluation.root),
};
for (const tab of TABS) {
  tabs.append(el('vscode-tab-header', { slot: 'header', id: `tab-${tab}` }, TAB_LABELS[tab]));
  tabs.append(el('vscode-tab-panel', { 'aria-labelledby': `tab-${tab}` }, panels[tab]));
}

clear(app);
app.removeAttribute('aria-busy');
app.append(
  h(
    'div',
    { class: 'layout' },
    h(
      'aside',
      { class: 'run-list', 'aria-label': 'Runs' },
      h('div', { class: 'run-list-head' }, h('h2', { text: 'Runs' }), runCount, h('span', { class: 'spacer' }), showAll),
      runList,
    ),
    h('main', { class: 'content' }, h('header', { class: 'app-header' }, h('h1', { text: 'Compare runs' }), summary, liveBadge), notice, tabs),
  ),
);

function field(label: string, control: HTMLElement): HTMLElement {
  const id = `f-${label.toLowerCase().replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
  control.id = id;
  return h('span', { class: 'field' }, h('label', { for: id, text: label }), control);
}

/** Options of a vscode select, rebuilt only when the choices change. */
function setOptions(select: HTMLElement, options: { value: string; label: string; disabled?: boolean }[], selected: readonly string[]): void {
  const key = JSON.stringify([options, selected]);
  if (select.dataset.options === key) return;
  select.dataset.options = key;
  clear(select);
  for (const o of options) select.append(el('vscode-option', { value: o.value, selected: selected.includes(o.value), disabled: o.disabled }, o.label));
}

// ── controls ────────────────────────────────────────────────────────────────
metricSelect.addEventListener('change', () => {
  const chosen = metricSelect.value.filter((m) => state?.metrics.includes(m));
  setView({ metrics: chosen });
  syncCharts();
});
axisSelect.addEventListener('change', () => {
  const xAxis = axisSelect.value as XAxis;
  if (xAxis === view.xAxis) return;
  // Zoom is in axis units: it does not carry over.
  setView({ xAxis, zoom: null });
  requestAll();
});
groupSelect.addEventListener('change', () => {
  const groupBy = groupSelect.value || null;
  if (groupBy === view.groupBy) return;
  setView({ groupBy });
  renderRunList();
  requestAll();
});
let smoothFrame = 0;
smoothing.addEventListener('input', () => {
  setView({ smoothing: Number(smoothing.value) });
  smoothingValue.textContent = Number(smoothing.value).toFixed(2);
  cancelAnimationFrame(smoothFrame);
  smoothFrame = requestAnimationFrame(() => charts.forEach((c) => c.render()));
});
logY.addEventListener('change', () => {
  setView({ logY: logY.checked });
  charts.forEach((c) => c.render());
});
resetZoom.addEventListener('click', () => zoomTo(null));
for (const [select, metricOf] of [
  [plotMetricSelect, () => plotMetricSelect.value],
  [scatterMetricSelect, () => scatterMetricSelect.value],
] as const) {
  select.addEventListener('change', () => {
    setView({ metric: metricOf() || null });
    syncPlotControls();
    renderVisiblePlot();
  });
}
for (const select of [aggregateSelect, scatterAggregateSelect]) {
  select.addEventListener('change', () => {
    setView({ aggregate: select.value === 'best' ? 'best' : 'last' });
    syncPlotControls();
    renderVisiblePlot();
  });
}
scatterParamSelect.addEventListener('change', () => {
  setView({ scatterParam: scatterParamSelect.value || null });
  renderVisiblePlot();
});
tabs.addEventListener('vsc-tabs-select', (e) => {
  const tab = TABS[(e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex] ?? 'charts';
  setView({ tab });
  showTab(tab);
});

// ── behaviour ───────────────────────────────────────────────────────────────
function groupOf(runId: number, groupBy: string): string {
  const params = state?.runs.find((r) => r.id === runId)?.params;
  return params && Object.hasOwn(params, groupBy) ? params[groupBy]! : NO_GROUP;
}

/** A group's color is fixed by its place among every group of the shown runs, so all charts agree. */
function groupColor(group: string): Rgb {
  const groups = view.groupBy ? orderGroups((state?.runs ?? []).map((r) => groupOf(r.id, view.groupBy!))) : [];
  return theme.palette[Math.max(0, groups.indexOf(group)) % theme.palette.length]!;
}

/** The run list is the legend of the runs: grouped, each run shows its group's color. */
function swatchColor(runId: number): Rgb {
  return view.groupBy ? groupColor(groupOf(runId, view.groupBy)) : chartHost.colorOf(runId);
}

function queryFor(metric: string) {
  // At most 2k points per series (the host sends 1–2k, or every point when there are fewer): about
  // one per device pixel of a wide chart; the min/max envelope keeps every spike anyway.
  return { metric, xAxis: view.xAxis, range: view.zoom, points: DEFAULT_POINTS, groupBy: view.groupBy };
}

function request(chart: MetricChart): void {
  chart.requestId = ++requestSeq;
  post({ type: 'requestSeries', requestId: chart.requestId, query: queryFor(chart.metric) });
}

function requestAll(): void {
  charts.forEach((c) => request(c));
}

/** One chart per chosen metric, in the chosen order; new charts ask for their data. */
function syncCharts(): void {
  const wanted = view.metrics;
  for (const [metric, chart] of charts) {
    if (!wanted.includes(metric)) {
      chart.destroy();
      charts.delete(metric);
    }
  }
  for (const metric of wanted) {
    let chart = charts.get(metric);
    if (!chart) {
      chart = new MetricChart(metric, chartHost);
      charts.set(metric, chart);
      request(chart);
    }
    chartGrid.append(chart.root);
  }
  if (wanted.length === 0) chartGrid.append(h('p', { class: 'caption empty', text: state?.metrics.length ? 'Choose metrics to chart.' : 'These runs have no metrics yet.' }));
  else chartGrid.querySelector('.empty')?.remove();
}

function zoomTo(range: XRange | null): void {
  if (range && !(range.to > range.from)) return;
  setView({ zoom: range });
  charts.forEach((c) => {
    c.showRange(range);
    request(c);
  });
}

function highlight(runId: number | null, fromUser: boolean): void {
  if (runId !== null && !names.has(runId)) runId = null;
  setView({ highlight: runId });
  if (fromUser) post({ type: 'highlight', runId });
  charts.forEach((c) => c.applyHighlight());
  runTable.applyHighlight();
  for (const li of runList.querySelectorAll<HTMLElement>('li[data-run]')) li.classList.toggle('highlighted', Number(li.dataset.run) === runId);
  renderVisiblePlot();
  if (view.tab === 'evaluation' && evaluation.loaded) evaluation.render();
}

function refreshVisibility(): void {
  const hidden = new Set(view.hidden);
  for (const li of runList.querySelectorAll<HTMLElement>('li[data-run]')) {
    const box = li.querySelector('input');
    if (box) box.checked = !hidden.has(Number(li.dataset.run));
    li.classList.toggle('hidden-run', hidden.has(Number(li.dataset.run)));
  }
  charts.forEach((c) => c.applyHighlight());
  renderVisiblePlot();
}

function renderRunList(): void {
  clear(runList);
  if (!state) return;
  const hidden = new Set(view.hidden);
  runCount.textContent = String(state.runs.length);
  for (const run of state.runs) {
    const box = h('input', { type: 'checkbox', 'aria-label': `Show ${run.name}` });
    box.checked = !hidden.has(run.id);
    box.addEventListener('change', () => {
      const set = new Set(view.hidden);
      if (box.checked) set.delete(run.id);
      else set.add(run.id);
      setView({ hidden: [...set] });
      refreshVisibility();
    });
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = rgba(swatchColor(run.id));
    const name = h('button', { type: 'button', class: 'run-name', title: `${run.name} (#${run.id}, ${run.experiment})` }, swatch, h('span', { class: 'label', text: run.name }));
    name.addEventListener('click', () => highlight(view.highlight === run.id ? null : run.id, true));
    const status = h('span', { class: `status status-${run.status}`, title: run.status, text: run.status === 'running' ? '●' : '' });
    runList.append(
      h('li', { 'data-run': run.id, class: `${hidden.has(run.id) ? 'hidden-run' : ''}${view.highlight === run.id ? ' highlighted' : ''}` }, box, name, status),
    );
  }
}

function syncControls(): void {
  if (!state) return;
  const s = state;
  setOptions(metricSelect, s.metrics.map((m) => ({ value: m, label: m })), view.metrics);
  const anyEpoch = s.runs.some((r) => r.hasEpoch);
  setOptions(
    axisSelect,
    (['step', 'relative', 'wall', 'epoch'] as const).map((a) => ({ value: a, label: a === 'epoch' && !anyEpoch ? 'Epoch (no run logs one)' : AXIS_LABELS[a], disabled: a === 'epoch' && !anyEpoch })),
    [view.xAxis],
  );
  setOptions(groupSelect, [{ value: '', label: 'None' }, ...s.params.map((p) => ({ value: p, label: s.differingParams.includes(p) ? p : `${p} (same in all)` }))], [view.groupBy ?? '']);
  smoothing.value = String(view.smoothing);
  smoothingValue.textContent = view.smoothing.toFixed(2);
  logY.checked = view.logY;
  syncPlotControls();
}

function syncPlotControls(): void {
  if (!state) return;
  const metrics = state.metrics.map((m) => ({ value: m, label: m }));
  const aggregates = [
    { value: 'last', label: 'Last value' },
    { value: 'best', label: 'Best value' },
  ];
  setOptions(plotMetricSelect, metrics, [view.metric ?? '']);
  setOptions(scatterMetricSelect, metrics, [view.metric ?? '']);
  setOptions(aggregateSelect, aggregates, [view.aggregate]);
  setOptions(scatterAggregateSelect, aggregates, [view.aggregate]);
  setOptions(scatterParamSelect, state.params.map((p) => ({ value: p, label: p })), [view.scatterParam ?? '']);
}

function renderTable(): void {
  if (!table) return;
  const started = performance.now();
  const rows = runTable.render();
  report({ view: 'table', metric: null, requestId: null, series: [{ runId: null, group: null, points: rows }], ms: performance.now() - started });
}

function renderVisiblePlot(): void {
  if (view.tab === 'parallel') parallel.render();
  else if (view.tab === 'scatter') scatter.render();
}

function showTab(tab: Tab): void {
  if (tab === 'table') renderTable();
  else if (tab === 'evaluation') {
    if (!evaluation.loaded) post({ type: 'requestEvaluation' });
    else evaluation.render();
  } else renderVisiblePlot();
}

function applyState(next: CompareState, fresh: boolean, defaults: string[] = []): void {
  const sameRuns = state !== null && state.runs.map((r) => r.id).join() === next.runs.map((r) => r.id).join();
  state = next;
  names = new Map(next.runs.map((r) => [r.id, r.name]));
  if (!sameRuns || fresh) {
    theme = readTheme(next.runs.length);
    colors = new Map(next.runs.map((r, i) => [r.id, theme.palette[i]!]));
  }
  const running = next.runs.filter((r) => r.status === 'running').length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  summary.textContent = `${plural(next.runs.length, 'run')} · ${plural(next.metrics.length, 'metric')} · ${next.differingParams.length} of ${plural(next.params.length, 'param')} differ${running ? ` · ${running} running` : ''}`;
  liveBadge.hidden = !next.live;
  if (fresh) {
    const known = new Set(next.metrics);
    const metrics = view.metrics.filter((m) => known.has(m));
    const patch: Partial<ViewState> = { metrics: metrics.length ? metrics : defaults, runs: next.runs.map((r) => r.id) };
    if (view.highlight !== null && !names.has(view.highlight)) patch.highlight = null;
    if (view.groupBy !== null && !next.params.includes(view.groupBy)) patch.groupBy = null;
    if (view.xAxis === 'epoch' && !next.runs.some((r) => r.hasEpoch)) Object.assign(patch, { xAxis: 'step', zoom: null });
    if (!view.metric || !known.has(view.metric)) patch.metric = defaults[0] ?? next.metrics[0] ?? null;
    if (!view.scatterParam || !next.params.includes(view.scatterParam)) patch.scatterParam = next.varyingParams[0] ?? next.params[0] ?? null;
    setView(patch);
    const ids = new Set(next.runs.map((r) => r.id));
    if (view.hidden.some((id) => !ids.has(id))) setView({ hidden: view.hidden.filter((id) => ids.has(id)) });
    renderRunList();
  } else {
    // Live: statuses change in place.
    for (const run of next.runs) {
      const status = runList.querySelector<HTMLElement>(`li[data-run="${run.id}"] .status`);
      if (status) {
        status.className = `status status-${run.status}`;
        status.title = run.status;
        status.textContent = run.status === 'running' ? '●' : '';
      }
    }
    if (!sameRuns) renderRunList();
  }
  syncControls();
}

function showNotice(text: string | null): void {
  notice.hidden = !text;
  notice.textContent = text ?? '';
}

function handle(message: HostMessage): void {
  switch (message.type) {
    case 'init':
      showNotice(null);
      for (const chart of charts.values()) chart.destroy();
      charts.clear();
      evaluation.reset();
      applyState(message.state, true, message.defaultMetrics);
      syncCharts();
      if (view.tab !== 'charts') showTab(view.tab);
      return;
    case 'state':
      applyState(message.state, false);
      return;
    case 'series':
      charts.get(message.query.metric)?.setData(message);
      return;
    case 'table':
      table = message.table;
      runTable.setData(message.table);
      if (view.tab === 'table') renderTable();
      else renderVisiblePlot();
      return;
    case 'evaluation':
      evaluation.setData(message.runs);
      return;
    case 'highlight':
      highlight(message.runId, false);
      return;
    case 'error':
      showNotice(message.message);
      return;
    default: {
      const never: never = message;
      post({ type: 'error', message: `Unknown message ${JSON.stringify(never)}` });
    }
  }
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  if (e.data && typeof e.data === 'object' && 'type' in e.data) handle(e.data);
});
window.addEventListener('error', (e) => post({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));

// Theme switches restyle the body's class and variables: re-read colors and redraw.
new MutationObserver(() => {
  theme = readTheme(state?.runs.length ?? 1);
  if (state) colors = new Map(state.runs.map((r, i) => [r.id, theme.palette[i]!]));
  renderRunList();
  charts.forEach((c) => c.render());
  renderVisiblePlot();
  if (view.tab === 'table') renderTable();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

post({ type: 'ready', view: savedView() });
