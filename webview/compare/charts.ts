import {
  Chart,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartDataset,
  type Plugin,
  type Scale,
  type TooltipItem,
} from 'chart.js';
import type { GroupSeries, RenderedReport, RunSeries, SeriesData, ViewState, XAxis, XRange } from '../../src/shared/compareProtocol.ts';
import { formatClock, formatDuration, formatNumber, formatValue, h, icon } from './dom.ts';
import { rgba, type Rgb, type Theme } from './theme.ts';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

/** What a chart needs from the app around it. */
export interface ChartHost {
  theme(): Theme;
  view(): ViewState;
  /** Shown runs in order (the order fixes colors). */
  runIds(): number[];
  colorOf(runId: number): Rgb;
  nameOf(runId: number): string;
  zoom(range: XRange | null): void;
  highlight(runId: number | null): void;
  exportPng(metric: string, dataUrl: string): void;
  exportCsv(metric: string): void;
  report(report: RenderedReport): void;
}

/** A filled min/max (or ±std) band behind a line, drawn from columns without Chart.js elements. */
interface Band {
  x: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  color: Rgb;
  /** The dataset it belongs to (hidden with it). */
  index: number;
}

type LineDataset = ChartDataset<'line', { x: number; y: number }[]>;

const bandsOf = new WeakMap<object, Band[]>();
const faded = new WeakMap<object, boolean>();

/** Draws each visible dataset's band under the lines, clipped to the chart area. */
const bandPlugin: Plugin<'line'> = {
  id: 'runboardBands',
  beforeDatasetsDraw(chart) {
    const bands = bandsOf.get(chart);
    if (!bands?.length) return;
    const { ctx, chartArea: area } = chart;
    const xs = chart.scales.x!;
    const ys = chart.scales.y!;
    const log = ys.type === 'logarithmic';
    const floor = log ? ys.min : -Infinity;
    const highlighted = faded.get(chart) ?? false;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    for (const band of bands) {
      if (!chart.isDatasetVisible(band.index)) continue;
      const ds = chart.data.datasets[band.index] as LineDataset & { runboardFocus?: boolean };
      const dim = highlighted && !ds.runboardFocus;
      ctx.fillStyle = rgba(band.color, dim ? 0.05 : 0.2);
      ctx.strokeStyle = rgba(band.color, dim ? 0.08 : 0.35);
      ctx.lineWidth = 1;
      // One polygon per stretch of finite values: along the top, back along the bottom.
      let start = -1;
      const n = band.x.length;
      for (let i = 0; i <= n; i++) {
        const ok = i < n && Number.isFinite(band.lo[i]!) && Number.isFinite(band.hi[i]!);
        if (ok && start < 0) start = i;
        if ((!ok || i === n) && start >= 0) {
          ctx.beginPath();
          for (let j = start; j < i; j++) {
            const px = xs.getPixelForValue(band.x[j]!);
            const py = ys.getPixelForValue(Math.max(band.hi[j]!, floor));
            if (j === start) ctx.moveTo(px, py);
            else ctx.lineTo(px, py);
          }
          for (let j = i - 1; j >= start; j--) ctx.lineTo(xs.getPixelForValue(band.x[j]!), ys.getPixelForValue(Math.max(band.lo[j]!, floor)));
          ctx.closePath();
          ctx.fill();
          // Edges a shade stronger: a one-bucket spike is a sliver of fill, its outline still shows.
          ctx.stroke();
          start = -1;
        }
      }
    }
    ctx.restore();
  },
  // The y range covers the bands too: a spike inside a bucket never falls off the chart.
  afterDataLimits(chart, args) {
    const scale = args.scale as Scale;
    if (scale.id !== 'y') return;
    const bands = bandsOf.get(chart);
    if (!bands?.length) return;
    const xs = chart.options.scales?.x as { min?: number; max?: number } | undefined;
    const xmin = xs?.min ?? -Infinity;
    const xmax = xs?.max ?? Infinity;
    const log = scale.type === 'logarithmic';
    let min = scale.min;
    let max = scale.max;
    for (const band of bands) {
      if (!chart.isDatasetVisible(band.index)) continue;
      for (let i = 0; i < band.x.length; i++) {
        const x = band.x[i]!;
        if (x < xmin || x > xmax) continue;
        const lo = band.lo[i]!;
        const hi = band.hi[i]!;
        if (Number.isFinite(lo) && (!log || lo > 0) && lo < min) min = lo;
        if (Number.isFinite(hi) && hi > max) max = hi;
      }
    }
    scale.min = min;
    scale.max = max;
  },
};

/**
 * Debiased exponential moving average, weighted by how many raw points each value stands for: a
 * bucket of 64 points decays the average as much as 64 raw points would, so the smoothed curve
 * looks the same whatever the zoom or downsampling.
 */
export function ema(y: Float64Array, count: Float64Array | null, weight: number): Float64Array {
  if (weight <= 0) return y;
  const out = new Float64Array(y.length);
  let last = 0;
  let debias = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isFinite(v)) {
      out[i] = NaN;
      continue;
    }
    const decay = Math.pow(weight, count ? Math.max(1, count[i]!) : 1);
    last = last * decay + (1 - decay) * v;
    debias = debias * decay + (1 - decay);
    out[i] = last / debias;
  }
  return out;
}

export function formatX(axis: XAxis, value: number, span: number): string {
  switch (axis) {
    case 'step':
      return formatNumber(Math.round(value));
    case 'relative':
      return formatDuration(value);
    case 'wall':
      return formatClock(value, span);
    case 'epoch':
      return formatNumber(+value.toFixed(2));
    default: {
      const never: never = axis;
      return String(never);
    }
  }
}

export const AXIS_LABELS: Record<XAxis, string> = { step: 'Step', relative: 'Time since start', wall: 'Wall time', epoch: 'Epoch' };

/** One metric's line chart: runs (or groups) as lines over their min/max envelopes. */
export class MetricChart {
  readonly metric: string;
  readonly root: HTMLElement;
  private readonly host: ChartHost;
  private readonly canvas: HTMLCanvasElement;
  private readonly selection: HTMLElement;
  private readonly status: HTMLElement;
  private chart: Chart<'line', { x: number; y: number }[]> | null = null;
  /** The id of the last request; older answers are dropped. */
  requestId = 0;
  private query: SeriesData['query'] | null = null;
  private readonly runs = new Map<number, RunSeries>();
  private groups: GroupSeries[] | null = null;
  /** Which run or group each dataset shows. */
  private owners: { runId: number | null; group: GroupSeries | null; series: RunSeries | null }[] = [];
  private drag: { x0: number; pointer: number } | null = null;

  constructor(metric: string, host: ChartHost) {
    this.metric = metric;
    this.host = host;
    this.canvas = h('canvas', {
      tabindex: 0,
      role: 'img',
      'aria-label': `${metric} chart. Drag to zoom; keys: plus and minus zoom, arrows pan, 0 resets.`,
    });
    this.selection = h('div', { class: 'zoom-selection', hidden: true });
    this.status = h('span', { class: 'chart-status', 'aria-live': 'polite' });
    const png = h('button', { class: 'icon-button', type: 'button', title: 'Save as PNG', 'aria-label': `Save ${metric} chart as PNG` }, icon('file-media'));
    const csv = h('button', { class: 'icon-button', type: 'button', title: 'Export shown series as CSV', 'aria-label': `Export ${metric} series as CSV` }, icon('table'));
    png.addEventListener('click', () => this.exportPng());
    csv.addEventListener('click', () => host.exportCsv(metric));
    this.root = h(
      'section',
      { class: 'chart-card', 'aria-label': metric },
      h('header', { class: 'chart-header' }, h('h3', { class: 'chart-title', text: metric }), this.status, h('span', { class: 'spacer' }), png, csv),
      h('div', { class: 'chart-body' }, this.canvas, this.selection),
    );
    this.wireInteraction();
  }

  /** A new answer from the host (or a live partial update). Returns false when it is stale. */
  setData(data: SeriesData): boolean {
    if (data.requestId !== this.requestId) return false;
    const started = performance.now();
    if (!data.partial) this.runs.clear();
    for (const s of data.runs) this.runs.set(s.runId, s);
    this.groups = data.groups;
    this.query = data.query;
    this.render();
    const shown = this.owners.map((o) => ({ runId: o.runId, group: o.group?.group ?? null, points: o.series ? o.series.x.length : (o.group?.x.length ?? 0) }));
    this.host.report({ view: 'chart', metric: this.metric, requestId: data.requestId, series: shown, ms: Math.round((performance.now() - started) * 10) / 10 });
    return true;
  }

  /** Rebuilds datasets from the columns (smoothing, axis, scale or data changed). */
  render(): void {
    const view = this.host.view();
    const theme = this.host.theme();
    const datasets: LineDataset[] = [];
    const bands: Band[] = [];
    this.owners = [];
    const log = view.logY;
    const points = (x: Float64Array, y: Float64Array) => {
      const out = new Array<{ x: number; y: number }>(x.length);
      for (let i = 0; i < x.length; i++) {
        const v = y[i]!;
        out[i] = { x: x[i]!, y: log && !(v > 0) ? NaN : v };
      }
      return out;
    };
    if (this.groups) {
      this.groups.forEach((g, i) => {
        const color = theme.palette[i % theme.palette.length]!;
        const lo = new Float64Array(g.x.length);
        const hi = new Float64Array(g.x.length);
        for (let j = 0; j < g.x.length; j++) {
          lo[j] = g.mean[j]! - g.std[j]!;
          hi[j] = g.mean[j]! + g.std[j]!;
        }
        bands.push({ x: g.x, lo, hi, color, index: datasets.length });
        datasets.push(this.dataset(`${view.groupBy} = ${g.group} (${g.runIds.length} runs)`, points(g.x, ema(g.mean, null, view.smoothing)), color));
        this.owners.push({ runId: null, group: g, series: null });
      });
    } else {
      const hidden = new Set(view.hidden);
      for (const runId of this.host.runIds()) {
        const s = this.runs.get(runId);
        if (!s) continue;
        const color = this.host.colorOf(runId);
        if (s.min && s.max) bands.push({ x: s.x, lo: s.min, hi: s.max, color, index: datasets.length });
        const ds = this.dataset(this.host.nameOf(runId), points(s.x, ema(s.y, s.count, view.smoothing)), color);
        ds.hidden = hidden.has(runId);
        datasets.push(ds);
        this.owners.push({ runId, group: null, series: s });
      }
    }
    const axis = this.query?.xAxis ?? view.xAxis;
    const zoom = view.zoom;
    const options = this.options(theme, axis, zoom, log);
    if (!this.chart) {
      this.chart = new Chart<'line', { x: number; y: number }[]>(this.canvas, { type: 'line', data: { datasets }, options, plugins: [bandPlugin] });
    } else {
      this.chart.data.datasets = datasets;
      this.chart.options = options;
    }
    bandsOf.set(this.chart, bands);
    this.applyHighlight(false);
    this.chart.update('none');
    const runsShown = this.owners.length;
    const enveloped = this.owners.filter((o) => o.series && !o.series.exact).length;
    this.status.textContent = this.groups
      ? `${this.groups.length} groups · mean ± std`
      : runsShown === 0
        ? axis === 'epoch' ? 'no run logged an epoch metric' : 'no data'
        : `${runsShown} run${runsShown === 1 ? '' : 's'} · ${enveloped === 0 ? 'every point' : enveloped === runsShown ? 'min/max envelopes' : `${enveloped} as min/max envelopes`}`;
  }

  private dataset(label: string, data: { x: number; y: number }[], color: Rgb): LineDataset {
    return {
      label,
      data,
      borderColor: rgba(color),
      backgroundColor: rgba(color),
      borderWidth: 1.5,
      pointRadius: 0,
      pointHoverRadius: 3,
      pointHitRadius: 4,
      spanGaps: false,
      normalized: true,
      parsing: false,
      indexAxis: 'x',
    } as LineDataset;
  }

  private options(theme: Theme, axis: XAxis, zoom: XRange | null, log: boolean) {
    const font = { family: theme.fontFamily, size: Math.max(10, theme.fontSize - 2) };
    const owners = this.owners;
    const nameOf = (i: number) => this.chart?.data.datasets[i]?.label ?? '';
    return {
      animation: false as const,
      responsive: true,
      maintainAspectRatio: false,
      normalized: true,
      parsing: false as const,
      interaction: { mode: 'nearest' as const, intersect: false, axis: 'xy' as const },
      plugins: {
        decimation: { enabled: false },
        legend: { display: false },
        tooltip: {
          backgroundColor: theme.hoverBackground,
          titleColor: theme.hoverForeground,
          bodyColor: theme.hoverForeground,
          borderColor: theme.hoverBorder,
          borderWidth: 1,
          titleFont: font,
          bodyFont: font,
          displayColors: true,
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => {
              const item = items[0];
              if (!item) return '';
              const owner = owners[item.datasetIndex];
              const step = owner?.series?.step[item.dataIndex];
              const xText = `${AXIS_LABELS[axis]} ${formatX(axis, item.parsed.x ?? NaN, this.span())}`;
              return axis !== 'step' && step !== undefined ? `${xText} (step ${step})` : xText;
            },
            label: (item: TooltipItem<'line'>) => {
              const owner = owners[item.datasetIndex];
              const s = owner?.series;
              const i = item.dataIndex;
              let text = `${nameOf(item.datasetIndex)}: ${formatValue(item.parsed.y ?? NaN)}`;
              if (s?.min && s.max && s.count) text += `  [${formatValue(s.min[i]!)} … ${formatValue(s.max[i]!)}, ${s.count[i]} pts]`;
              if (owner?.group) text += `  ± ${formatValue(owner.group.std[i]!)} (n=${owner.group.n[i]})`;
              return text;
            },
          },
        },
      },
      scales: {
        x: {
          type: 'linear' as const,
          min: zoom?.from,
          max: zoom?.to,
          title: { display: true, text: AXIS_LABELS[axis], color: theme.muted, font },
          ticks: { color: theme.muted, font, maxRotation: 0, autoSkipPadding: 16, callback: (v: string | number) => formatX(axis, Number(v), this.span()) },
          grid: { color: theme.grid },
          border: { color: theme.grid },
        },
        y: {
          type: log ? ('logarithmic' as const) : ('linear' as const),
          ticks: { color: theme.muted, font, callback: (v: string | number) => formatNumber(Number(v)) },
          grid: { color: theme.grid },
          border: { color: theme.grid },
        },
      },
    };
  }

  private span(): number {
    const x = this.chart?.scales.x;
    return x ? x.max - x.min : 0;
  }

  /** Highlight and visibility changed: restyle without rebuilding data. */
  applyHighlight(update = true): void {
    const chart = this.chart;
    if (!chart) return;
    const view = this.host.view();
    const hidden = new Set(view.hidden);
    const focus = view.highlight;
    const theme = this.host.theme();
    faded.set(chart, focus !== null && this.owners.some((o) => o.runId === focus));
    chart.data.datasets.forEach((ds, i) => {
      const owner = this.owners[i];
      if (!owner) return;
      const color = owner.runId !== null ? this.host.colorOf(owner.runId) : theme.palette[i % theme.palette.length]!;
      const isFocus = owner.runId !== null && owner.runId === focus;
      const dim = faded.get(chart) && !isFocus;
      (ds as LineDataset & { runboardFocus?: boolean }).runboardFocus = isFocus;
      ds.borderColor = rgba(color, dim ? 0.18 : 1);
      ds.borderWidth = isFocus ? 3 : owner.group ? 2 : 1.5;
      ds.order = isFocus ? -1 : 0;
      if (owner.runId !== null) ds.hidden = hidden.has(owner.runId);
    });
    if (update) chart.update('none');
  }

  /** The current x range on screen (for keyboard zoom and pan). */
  private currentRange(): XRange | null {
    const x = this.chart?.scales.x;
    return x && Number.isFinite(x.min) && Number.isFinite(x.max) ? { from: x.min, to: x.max } : null;
  }

  /** Shows the zoomed range at once with the data at hand; the host's finer answer follows. */
  showRange(range: XRange | null): void {
    if (!this.chart) return;
    const x = this.chart.options.scales!.x!;
    x.min = range?.from;
    x.max = range?.to;
    this.chart.update('none');
  }

  private wireInteraction(): void {
    const c = this.canvas;
    const offsetX = (e: PointerEvent) => e.clientX - c.getBoundingClientRect().left;
    c.addEventListener('pointerdown', (e) => {
      const area = this.chart?.chartArea;
      if (e.button !== 0 || !area) return;
      const x = offsetX(e);
      const y = e.clientY - c.getBoundingClientRect().top;
      if (x < area.left || x > area.right || y < area.top || y > area.bottom) return;
      this.drag = { x0: x, pointer: e.pointerId };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      const area = this.chart?.chartArea;
      if (!this.drag || !area) return;
      const x = Math.max(area.left, Math.min(area.right, offsetX(e)));
      const left = Math.min(this.drag.x0, x);
      const width = Math.abs(x - this.drag.x0);
      const s = this.selection.style;
      s.left = `${left}px`;
      s.width = `${width}px`;
      s.top = `${area.top}px`;
      s.height = `${area.bottom - area.top}px`;
      this.selection.hidden = width < 3;
    });
    const end = (e: PointerEvent, cancelled: boolean) => {
      const drag = this.drag;
      this.drag = null;
      this.selection.hidden = true;
      if (!drag || !this.chart) return;
      if (c.hasPointerCapture(drag.pointer)) c.releasePointerCapture(drag.pointer);
      if (cancelled) return;
      const area = this.chart.chartArea;
      const x1 = Math.max(area.left, Math.min(area.right, offsetX(e)));
      if (Math.abs(x1 - drag.x0) > 5) {
        const scale = this.chart.scales.x!;
        const a = scale.getValueForPixel(drag.x0)!;
        const b = scale.getValueForPixel(x1)!;
        this.host.zoom({ from: Math.min(a, b), to: Math.max(a, b) });
      } else {
        this.pick(e);
      }
    };
    c.addEventListener('pointerup', (e) => end(e, false));
    c.addEventListener('pointercancel', (e) => end(e, true));
    c.addEventListener('dblclick', () => this.host.zoom(null));
    c.addEventListener('keydown', (e) => {
      const range = this.currentRange();
      if (!range) return;
      const width = range.to - range.from;
      const mid = (range.from + range.to) / 2;
      let next: XRange | null | undefined;
      if (e.key === '+' || e.key === '=') next = { from: mid - width / 4, to: mid + width / 4 };
      else if (e.key === '-' || e.key === '_') next = { from: mid - width, to: mid + width };
      else if (e.key === 'ArrowLeft') next = { from: range.from - width / 4, to: range.to - width / 4 };
      else if (e.key === 'ArrowRight') next = { from: range.from + width / 4, to: range.to + width / 4 };
      else if (e.key === '0' || e.key === 'Escape') next = null;
      if (next === undefined) return;
      e.preventDefault();
      this.host.zoom(next);
    });
  }

  /** A click: the nearest line within a few pixels is highlighted; empty space clears. */
  private pick(e: PointerEvent): void {
    const chart = this.chart;
    if (!chart) return;
    const items = chart.getElementsAtEventForMode(e, 'nearest', { intersect: false, axis: 'xy' }, false);
    const item = items[0];
    const rect = this.canvas.getBoundingClientRect();
    const near = item && Math.hypot(item.element.x - (e.clientX - rect.left), item.element.y - (e.clientY - rect.top)) < 24;
    const runId = near ? (this.owners[item.datasetIndex]?.runId ?? null) : null;
    this.host.highlight(runId === this.host.view().highlight ? null : runId);
  }

  /** The chart on the theme's background (a transparent PNG reads badly elsewhere). */
  private exportPng(): void {
    if (!this.chart) return;
    const out = document.createElement('canvas');
    out.width = this.canvas.width;
    out.height = this.canvas.height;
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = this.host.theme().background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(this.canvas, 0, 0);
    this.host.exportPng(this.metric, out.toDataURL('image/png'));
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
    this.root.remove();
  }
}
