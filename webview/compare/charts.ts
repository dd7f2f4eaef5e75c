import { Chart, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip, type Plugin, type Scale } from 'chart.js';
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
  /** The color of a group-by value: the same in every chart and in the run list. */
  groupColor(group: string): Rgb;
  nameOf(runId: number): string;
  /** Points of `metric` that a later value for the same step replaced in the run. */
  replacedOf(runId: number, metric: string): number;
  zoom(range: XRange | null): void;
  highlight(runId: number | null): void;
  exportPng(metric: string, dataUrl: string): void;
  exportCsv(metric: string): void;
  report(report: RenderedReport): void;
}

/**
 * One drawn line: columns straight from the host (no per-point objects), its band (min/max of
 * each bucket, or ± std for a group) and what it stands for.
 */
interface Line {
  label: string;
  runId: number | null;
  group: GroupSeries | null;
  series: RunSeries | null;
  x: Float64Array;
  /** The line's values after smoothing. */
  y: Float64Array;
  lo: Float64Array | null;
  hi: Float64Array | null;
  color: Rgb;
  hidden: boolean;
}

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

const linesOf = new WeakMap<object, { lines: Line[]; focus: number | null; halo: string }>();

/** First index with x[i] >= v (x sorted ascending). */
function lowerBound(x: Float64Array, v: number): number {
  let a = 0;
  let b = x.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (x[m]! < v) a = m + 1;
    else b = m;
  }
  return a;
}

/**
 * Draws bands then lines from the columns, clipped to the chart area. Chart.js keeps the scales,
 * axes, layout and resizing; skipping its per-point elements is what makes 100 × 2k points draw
 * in a few tens of milliseconds.
 */
/** Half the width of the mark over a bucket holding NaN or ±Infinity, in CSS pixels. */
const NONFINITE_MARK = 4;
/** Lines with at most this many points on screen get a dot at every point. */
const SHORT_LINE = 12;

const seriesPlugin: Plugin<'line'> = {
  id: 'runboardSeries',
  beforeDatasetsDraw(chart) {
    const state = linesOf.get(chart);
    if (!state) return;
    const { ctx, chartArea: area } = chart;
    const xs = chart.scales.x!;
    const ys = chart.scales.y!;
    const log = ys.type === 'logarithmic';
    const xmin = xs.min;
    const xmax = xs.max;
    const dim = state.focus !== null && state.lines.some((l) => l.runId === state.focus && !l.hidden);
    // Scales map linearly (in log10 for a log axis): two reference pixels, then arithmetic per point.
    const linear = (scale: Scale, isLog: boolean) => {
      const a = isLog ? Math.max(scale.min, Number.MIN_VALUE) : scale.min;
      const b = isLog ? Math.max(scale.max, a * 10) : scale.max === scale.min ? scale.min + 1 : scale.max;
      const pa = scale.getPixelForValue(a);
      const pb = scale.getPixelForValue(b);
      const ta = isLog ? Math.log10(a) : a;
      const k = (pb - pa) / ((isLog ? Math.log10(b) : b) - ta);
      return isLog ? (v: number) => pa + (Math.log10(Math.max(v, a)) - ta) * k : (v: number) => pa + (v - ta) * k;
    };
    const px = linear(xs, false);
    const py = linear(ys, log);
    // Only the points on screen, plus one on each side so lines run to the edges.
    const window = (x: Float64Array): [number, number] => [Math.max(0, lowerBound(x, xmin) - 1), Math.min(x.length, lowerBound(x, xmax) + 1)];
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    ctx.lineJoin = 'round';
    for (const line of state.lines) {
      if (line.hidden || !line.lo || !line.hi) continue;
      const faded = dim && line.runId !== state.focus;
      ctx.fillStyle = rgba(line.color, faded ? 0.04 : 0.2);
      ctx.strokeStyle = rgba(line.color, faded ? 0.06 : 0.35);
      ctx.lineWidth = 1;
      const [from, to] = window(line.x);
      const { lo, hi, x } = line;
      // One polygon per stretch of finite values: along the top, back along the bottom.
      let start = -1;
      for (let i = from; i <= to; i++) {
        const ok = i < to && Number.isFinite(lo[i]!) && Number.isFinite(hi[i]!) && (!log || hi[i]! > 0);
        if (ok && start < 0) start = i;
        if (!ok && start >= 0) {
          ctx.beginPath();
          ctx.moveTo(px(x[start]!), py(hi[start]!));
          for (let j = start + 1; j < i; j++) ctx.lineTo(px(x[j]!), py(hi[j]!));
          for (let j = i - 1; j >= start; j--) ctx.lineTo(px(x[j]!), py(lo[j]!));
          ctx.closePath();
          ctx.fill();
          // The outline a shade stronger: a one-bucket spike is a sliver of fill, its edge still shows.
          ctx.stroke();
          start = -1;
        }
      }
    }
    const drawLine = (line: Line, color: string, width: number) => {
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      const [from, to] = window(line.x);
      const { x, y } = line;
      const drawable = (i: number) => i >= from && i < to && Number.isFinite(y[i]!) && (!log || y[i]! > 0);
      // A point with no drawable neighbour is a line of length zero: it gets a dot, as does every
      // point of a short line, so a metric logged once (a final test score) is never invisible.
      const dots: number[] = [];
      const everyPoint = to - from <= SHORT_LINE;
      let open = false;
      for (let i = from; i < to; i++) {
        if (!drawable(i)) {
          open = false;
          continue;
        }
        if (open) ctx.lineTo(px(x[i]!), py(y[i]!));
        else ctx.moveTo(px(x[i]!), py(y[i]!));
        open = true;
        if (everyPoint || (!drawable(i - 1) && !drawable(i + 1))) dots.push(i);
      }
      ctx.stroke();
      const radius = Math.max(3, width * 1.6);
      for (const i of dots) {
        ctx.beginPath();
        ctx.arc(px(x[i]!), py(y[i]!), radius, 0, Math.PI * 2);
        ctx.fill();
      }
    };
    let focused: Line | null = null;
    for (const line of state.lines) {
      if (line.hidden) continue;
      if (line.runId !== null && line.runId === state.focus) {
        focused = line;
        continue;
      }
      drawLine(line, rgba(line.color, dim ? 0.18 : 1), line.group ? 2 : 1.5);
    }
    if (focused) {
      drawLine(focused, state.halo, 4.5);
      drawLine(focused, rgba(focused.color), 2.5);
    }
    // Points (or buckets holding points) that are NaN or ±Infinity, which the line and envelope
    // leave out: each stretch of them gets a triangle on the top edge where it starts and a faint
    // band across it, in the run's color, so where a series diverged is marked, not just a gap.
    for (const line of state.lines) {
      if (line.hidden || !line.series) continue;
      const { nonfinite, y } = line.series;
      const color = (alpha: number) => rgba(line.color, (dim && line.runId !== state.focus ? 0.25 : 1) * alpha);
      const bad = (i: number) => (nonfinite ? nonfinite[i]! > 0 : !Number.isFinite(y[i]!));
      const [from, to] = window(line.x);
      for (let i = from; i < to; i++) {
        if (!bad(i) || (i > from && bad(i - 1))) continue;
        let end = i;
        while (end + 1 < to && bad(end + 1)) end++;
        const a = px(line.x[i]!);
        const b = px(line.x[end]!);
        ctx.fillStyle = color(0.1);
        ctx.fillRect(a, area.top, Math.max(1, b - a), area.bottom - area.top);
        ctx.fillStyle = color(1);
        ctx.beginPath();
        ctx.moveTo(a - NONFINITE_MARK, area.top);
        ctx.lineTo(a + NONFINITE_MARK, area.top);
        ctx.lineTo(a, area.top + NONFINITE_MARK * 1.6);
        ctx.closePath();
        ctx.fill();
      }
    }
    ctx.restore();
  },
};

/** One metric's line chart: runs (or groups) as lines over their min/max envelopes. */
export class MetricChart {
  readonly metric: string;
  readonly root: HTMLElement;
  private readonly host: ChartHost;
  private readonly canvas: HTMLCanvasElement;
  private readonly body: HTMLElement;
  private readonly selection: HTMLElement;
  private readonly status: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly marker: HTMLElement;
  private chart: Chart<'line'> | null = null;
  /** The id of the last request; older answers are dropped. */
  requestId = 0;
  private query: SeriesData['query'] | null = null;
  private readonly runs = new Map<number, RunSeries>();
  private groups: GroupSeries[] | null = null;
  private lines: Line[] = [];
  private drag: { x0: number; pointer: number } | null = null;
  private hoverFrame = 0;

  constructor(metric: string, host: ChartHost) {
    this.metric = metric;
    this.host = host;
    this.canvas = h('canvas', {
      tabindex: 0,
      role: 'img',
      'aria-label': `${metric} chart. Drag to zoom; keys: plus and minus zoom, arrows pan, 0 resets.`,
    });
    this.selection = h('div', { class: 'zoom-selection', hidden: true });
    this.tooltip = h('div', { class: 'chart-tooltip', role: 'tooltip', hidden: true });
    this.marker = h('div', { class: 'chart-marker', hidden: true });
    this.status = h('span', { class: 'chart-status', 'aria-live': 'polite' });
    this.legend = h('ul', { class: 'chart-legend', 'aria-label': `${metric} legend`, hidden: true });
    this.notes = h('p', { class: 'chart-nonfinite', role: 'note', hidden: true });
    const png = h('button', { class: 'icon-button', type: 'button', title: 'Save as PNG', 'aria-label': `Save ${metric} chart as PNG` }, icon('file-media'));
    const csv = h('button', { class: 'icon-button', type: 'button', title: 'Export shown series as CSV', 'aria-label': `Export ${metric} series as CSV` }, icon('table'));
    png.addEventListener('click', () => this.exportPng());
    csv.addEventListener('click', () => host.exportCsv(metric));
    this.body = h('div', { class: 'chart-body' }, this.canvas, this.selection, this.marker, this.tooltip);
    this.root = h(
      'section',
      { class: 'chart-card', 'aria-label': metric },
      h('header', { class: 'chart-header' }, h('h3', { class: 'chart-title', text: metric }), this.status, h('span', { class: 'spacer' }), png, csv),
      this.legend,
      this.notes,
      this.body,
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
    this.render(started);
    return true;
  }

  /** Rebuilds the lines from the columns (smoothing, axis, scale or data changed), redraws and reports. */
  render(started = performance.now()): void {
    const view = this.host.view();
    const theme = this.host.theme();
    const lines: Line[] = [];
    if (this.groups) {
      this.groups.forEach((g) => {
        const lo = new Float64Array(g.x.length);
        const hi = new Float64Array(g.x.length);
        for (let j = 0; j < g.x.length; j++) {
          lo[j] = g.mean[j]! - g.std[j]!;
          hi[j] = g.mean[j]! + g.std[j]!;
        }
        const label = `${view.groupBy} = ${g.group} (${g.runIds.length} run${g.runIds.length === 1 ? '' : 's'})`;
        lines.push({ label, runId: null, group: g, series: null, x: g.x, y: ema(g.mean, null, view.smoothing), lo, hi, color: this.host.groupColor(g.group), hidden: false });
      });
    } else {
      const hidden = new Set(view.hidden);
      for (const runId of this.host.runIds()) {
        const s = this.runs.get(runId);
        if (!s) continue;
        lines.push({
          label: this.host.nameOf(runId),
          runId,
          group: null,
          series: s,
          x: s.x,
          y: ema(s.y, s.count, view.smoothing),
          lo: s.min,
          hi: s.max,
          color: this.host.colorOf(runId),
          hidden: hidden.has(runId),
        });
      }
    }
    this.lines = lines;
    const axis = this.query?.xAxis ?? view.xAxis;
    const options = this.options(theme, axis, view.zoom, view.logY);
    if (!this.chart) {
      this.chart = new Chart<'line'>(this.canvas, { type: 'line', data: { datasets: [] }, options, plugins: [seriesPlugin] });
    } else {
      this.chart.options = options;
    }
    linesOf.set(this.chart, { lines, focus: view.highlight, halo: theme.background });
    this.chart.update('none');
    // Only the runs that logged the metric count: a run without it draws nothing.
    const shown = lines.filter((l) => l.series && l.series.x.length > 0).length;
    const enveloped = lines.filter((l) => l.series && l.series.x.length > 0 && !l.series.exact).length;
    this.renderLegend(lines);
    const notes = nonfiniteNotes(lines);
    this.notes.hidden = notes === '';
    this.notes.textContent = notes;
    this.status.textContent = this.groups
      ? `${this.groups.length} group${this.groups.length === 1 ? '' : 's'} · mean ± std`
      : shown === 0
        ? axis === 'epoch'
          ? 'no run logged an epoch metric'
          : 'no data'
        : `${shown} run${shown === 1 ? '' : 's'} · ${enveloped === 0 ? 'every point' : enveloped === shown ? 'min/max envelopes' : `${enveloped} as min/max envelopes`}${this.replacedNote(lines)}`;
    const drawn = lines.map((l) => ({ runId: l.runId, group: l.group?.group ?? null, points: l.x.length }));
    this.host.report({ view: 'chart', metric: this.metric, requestId: this.requestId, series: drawn, ms: Math.round((performance.now() - started) * 10) / 10, ...this.axisReport() });
  }

  /** What the y axis shows, for the rendered report. */
  private axisReport(): Pick<RenderedReport, 'logY' | 'yTicks'> {
    const y = this.chart?.scales.y;
    if (!y) return {};
    return { logY: y.type === 'logarithmic', yTicks: y.ticks.map((t, i) => ({ label: String(t.label ?? ''), px: Math.round(y.getPixelForTick(i)) })) };
  }

  /** The data's extent on each axis: x over visible lines, y over lines and bands within the x range. */
  private limits(log: boolean): { x: XRange | null; y: XRange | null } {
    const zoom = this.host.view().zoom;
    let x0 = Infinity;
    let x1 = -Infinity;
    for (const l of this.lines) {
      if (l.hidden || l.x.length === 0) continue;
      x0 = Math.min(x0, l.x[0]!);
      x1 = Math.max(x1, l.x[l.x.length - 1]!);
    }
    const from = zoom?.from ?? x0;
    const to = zoom?.to ?? x1;
    let y0 = Infinity;
    let y1 = -Infinity;
    const take = (v: number) => {
      if (!Number.isFinite(v) || (log && v <= 0)) return;
      if (v < y0) y0 = v;
      if (v > y1) y1 = v;
    };
    for (const l of this.lines) {
      if (l.hidden) continue;
      const a = lowerBound(l.x, from);
      const b = lowerBound(l.x, to + Number.EPSILON * Math.abs(to) + 1e-12);
      for (let i = a; i < b; i++) {
        take(l.y[i]!);
        if (l.lo) take(l.lo[i]!);
        if (l.hi) take(l.hi[i]!);
      }
    }
    return { x: x0 <= x1 ? { from: x0, to: x1 } : null, y: y0 <= y1 ? { from: y0, to: y1 } : null };
  }

  private options(theme: Theme, axis: XAxis, zoom: XRange | null, log: boolean) {
    const font = { family: theme.fontFamily, size: Math.max(10, theme.fontSize - 2) };
    let limits: ReturnType<MetricChart['limits']> | null = null;
    const getLimits = () => (limits ??= this.limits(log));
    return {
      animation: false as const,
      responsive: true,
      maintainAspectRatio: false,
      normalized: true,
      parsing: false as const,
      // Pointer handling is ours (drag-zoom, nearest-point tooltip): Chart.js listens to nothing.
      events: [],
      plugins: { decimation: { enabled: false }, legend: { display: false }, tooltip: { enabled: false } },
      scales: {
        x: {
          type: 'linear' as const,
          min: zoom?.from,
          max: zoom?.to,
          afterDataLimits: (scale: Scale) => {
            const x = getLimits().x;
            if (zoom || !x) return;
            // One x value (a metric logged once): centre it rather than pin it to the left edge.
            scale.min = x.to > x.from ? x.from : x.from - 1;
            scale.max = x.to > x.from ? x.to : x.from + 1;
          },
          title: { display: true, text: AXIS_LABELS[axis], color: theme.muted, font },
          // Steps are whole numbers: no tick at 28.4 labelled 28 beside the one at 28.
          ticks: { color: theme.muted, font, maxRotation: 0, autoSkipPadding: 16, precision: axis === 'step' ? 0 : undefined, callback: (v: string | number) => formatX(axis, Number(v), this.span()) },
          grid: { color: theme.grid },
          border: { color: theme.grid },
        },
        y: {
          type: log ? ('logarithmic' as const) : ('linear' as const),
          afterDataLimits: (scale: Scale) => {
            // Lines and bands: a spike inside a bucket never falls off the chart.
            const y = getLimits().y;
            if (!y) return;
            // A little room above and below, so a point on the extreme is not cut in half by the edge.
            const pad = y.to > y.from ? (y.to - y.from) * 0.04 : Math.abs(y.from) * 0.1 || 1;
            const logPad = y.to > y.from ? (y.to / y.from) ** 0.04 : 1;
            scale.min = log ? y.from / logPad : y.from - pad;
            scale.max = log ? (y.to > y.from ? y.to * logPad : y.from * 10) : y.to + pad;
          },
          // Chart.js puts a log tick at every significant digit: over a narrow range (0.904–0.909)
          // their labels sit on top of each other. Ours are spaced by the axis' height instead.
          afterBuildTicks: (scale: Scale) => {
            if (!log) return;
            const room = Math.max(2, Math.floor((scale.chart.chartArea?.bottom - scale.chart.chartArea?.top || scale.chart.height - 40) / (font.size * 2.5)));
            scale.ticks = logTicks(scale.min, scale.max, room).map((value) => ({ value }));
          },
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

  /** Highlight and visibility changed: restyle without rebuilding lines. */
  applyHighlight(): void {
    const chart = this.chart;
    if (!chart) return;
    const view = this.host.view();
    const hidden = new Set(view.hidden);
    let visibilityChanged = false;
    for (const l of this.lines) {
      if (l.runId === null) continue;
      const h = hidden.has(l.runId);
      if (h !== l.hidden) visibilityChanged = true;
      l.hidden = h;
    }
    linesOf.set(chart, { lines: this.lines, focus: view.highlight, halo: this.host.theme().background });
    // Hiding runs can change the axes; a highlight only needs a redraw.
    if (visibilityChanged) chart.update('none');
    else chart.draw();
  }

  /** The current x range on screen (for keyboard zoom and pan). */
  private currentRange(): XRange | null {
    const x = this.chart?.scales.x;
    return x && Number.isFinite(x.min) && Number.isFinite(x.max) ? { from: x.min, to: x.max } : null;
  }

  /** Shows the zoomed range at once with the data at hand; the host's finer answer follows. */
  showRange(range: XRange | null): void {
    if (!this.chart) return;
    this.chart.options = this.options(this.host.theme(), this.query?.xAxis ?? this.host.view().xAxis, range, this.host.view().logY);
    this.chart.update('none');
  }

  /** The visible point nearest to a canvas position, within `radius` pixels. */
  private nearest(cx: number, cy: number, radius: number): { line: Line; index: number; px: number; py: number } | null {
    const chart = this.chart;
    if (!chart) return null;
    const xs = chart.scales.x!;
    const ys = chart.scales.y!;
    const xv = xs.getValueForPixel(cx)!;
    const log = ys.type === 'logarithmic';
    let best: { line: Line; index: number; px: number; py: number } | null = null;
    let bestD = radius;
    for (const line of this.lines) {
      if (line.hidden) continue;
      const at = lowerBound(line.x, xv);
      for (let i = Math.max(0, at - 2); i < Math.min(line.x.length, at + 2); i++) {
        const v = line.y[i]!;
        if (!Number.isFinite(v) || (log && v <= 0)) continue;
        const px = xs.getPixelForValue(line.x[i]!);
        const py = ys.getPixelForValue(v);
        // Favour the highlighted line a little: it is the one being read.
        const d = Math.hypot(px - cx, py - cy) - (line.runId !== null && line.runId === this.host.view().highlight ? 4 : 0);
        if (d < bestD) {
          bestD = d;
          best = { line, index: i, px, py };
        }
      }
    }
    return best;
  }

  /** Points a restarted loop logged again for the same steps: the chart shows the last value of each. */
  private replacedNote(lines: readonly Line[]): string {
    const replaced = lines.reduce((sum, l) => sum + (l.runId !== null && l.series ? this.host.replacedOf(l.runId, this.metric) : 0), 0);
    return replaced > 0 ? ` · ${replaced} point${replaced === 1 ? '' : 's'} replaced by a later value for the same step` : '';
  }

  private showTooltip(cx: number, cy: number): void {
    const hit = this.nearest(cx, cy, 40);
    const area = this.chart?.chartArea;
    if (!hit || !area || cx < area.left || cx > area.right) {
      this.tooltip.hidden = true;
      this.marker.hidden = true;
      return;
    }
    const { line, index: i } = hit;
    const axis = this.query?.xAxis ?? this.host.view().xAxis;
    const step = line.series?.step[i];
    const title = `${AXIS_LABELS[axis]} ${formatX(axis, line.x[i]!, this.span())}${axis !== 'step' && step !== undefined ? ` · step ${step}` : ''}`;
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = rgba(line.color);
    const s = line.series;
    const nonfinite = s?.nonfinite?.[i] ?? 0;
    const detail =
      s?.min && s.max && s.count
        ? `min ${formatValue(s.min[i]!)} · max ${formatValue(s.max[i]!)} · ${s.count[i]} points${nonfinite > 0 ? ` · ${nonfinite} NaN/±Infinity not drawn` : ''}`
        : line.group
          ? `± ${formatValue(line.group.std[i]!)} · ${line.group.n[i]} runs`
          : null;
    this.tooltip.replaceChildren(
      h('div', { class: 'tt-title', text: title }),
      h('div', { class: 'tt-row' }, swatch, h('span', { class: 'tt-name', text: line.label }), h('strong', { text: formatValue(line.y[i]!) })),
      ...(detail ? [h('div', { class: 'tt-detail', text: detail })] : []),
    );
    this.tooltip.hidden = false;
    const width = this.tooltip.offsetWidth;
    const left = hit.px + 12 + width > this.body.clientWidth ? hit.px - 12 - width : hit.px + 12;
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${Math.max(0, Math.min(hit.py - 16, this.body.clientHeight - this.tooltip.offsetHeight))}px`;
    this.marker.hidden = false;
    this.marker.style.left = `${hit.px}px`;
    this.marker.style.top = `${hit.py}px`;
    this.marker.style.backgroundColor = rgba(line.color);
  }

  private wireInteraction(): void {
    const c = this.canvas;
    const pos = (e: MouseEvent) => {
      const r = c.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    c.addEventListener('pointerdown', (e) => {
      const area = this.chart?.chartArea;
      if (e.button !== 0 || !area) return;
      const { x, y } = pos(e);
      if (x < area.left || x > area.right || y < area.top || y > area.bottom) return;
      this.drag = { x0: x, pointer: e.pointerId };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      const area = this.chart?.chartArea;
      if (!area) return;
      const p = pos(e);
      if (!this.drag) {
        cancelAnimationFrame(this.hoverFrame);
        this.hoverFrame = requestAnimationFrame(() => this.showTooltip(p.x, p.y));
        return;
      }
      this.tooltip.hidden = true;
      this.marker.hidden = true;
      const x = Math.max(area.left, Math.min(area.right, p.x));
      const left = Math.min(this.drag.x0, x);
      const width = Math.abs(x - this.drag.x0);
      const s = this.selection.style;
      s.left = `${left}px`;
      s.width = `${width}px`;
      s.top = `${area.top}px`;
      s.height = `${area.bottom - area.top}px`;
      this.selection.hidden = width < 3;
    });
    c.addEventListener('pointerleave', () => {
      cancelAnimationFrame(this.hoverFrame);
      this.tooltip.hidden = true;
      this.marker.hidden = true;
    });
    const end = (e: PointerEvent, cancelled: boolean) => {
      const drag = this.drag;
      this.drag = null;
      this.selection.hidden = true;
      if (!drag || !this.chart) return;
      if (c.hasPointerCapture(drag.pointer)) c.releasePointerCapture(drag.pointer);
      if (cancelled) return;
      const area = this.chart.chartArea;
      const p = pos(e);
      const x1 = Math.max(area.left, Math.min(area.right, p.x));
      if (Math.abs(x1 - drag.x0) > 5) {
        const scale = this.chart.scales.x!;
        const a = scale.getValueForPixel(drag.x0)!;
        const b = scale.getValueForPixel(x1)!;
        this.host.zoom({ from: Math.min(a, b), to: Math.max(a, b) });
      } else {
        // A click: the nearest line within a few pixels is highlighted; empty space clears.
        const hit = this.nearest(p.x, p.y, 24);
        const runId = hit?.line.runId ?? null;
        this.host.highlight(runId === this.host.view().highlight ? null : runId);
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

  /** Grouped, the legend names each group in its color: the run list's colors are per run. */
  private renderLegend(lines: readonly Line[]): void {
    this.legend.hidden = !this.groups;
    this.legend.replaceChildren(
      ...(this.groups ? legendEntries(lines) : []).map(({ label, color }) => {
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = rgba(color);
        return h('li', {}, swatch, h('span', { text: label }));
      }),
    );
  }

  /**
   * The chart as a picture that stands on its own: the metric as a title above, a legend (and
   * any non-finite note) below, on the theme's background (a transparent PNG reads badly elsewhere).
   */
  private exportPng(): void {
    if (!this.chart) return;
    const theme = this.host.theme();
    const scale = this.canvas.width / Math.max(1, this.canvas.clientWidth);
    const font = (px: number, weight = 'normal') => `${weight} ${Math.round(px * scale)}px ${theme.fontFamily}`;
    const pad = 12 * scale;
    const titleHeight = 30 * scale;
    const rowHeight = 20 * scale;
    const swatch = 10 * scale;
    const measure = document.createElement('canvas').getContext('2d')!;
    measure.font = font(12);
    // Legend entries flow left to right and wrap at the chart's width.
    const placed: { label: string; color: Rgb; x: number; row: number }[] = [];
    let x = pad;
    let row = 0;
    for (const entry of legendEntries(this.lines.filter((l) => !l.hidden && l.x.length > 0))) {
      const width = swatch + 6 * scale + measure.measureText(entry.label).width + 16 * scale;
      if (x + width > this.canvas.width - pad && x > pad) {
        x = pad;
        row++;
      }
      placed.push({ ...entry, x, row });
      x += width;
    }
    const notes = this.notes.hidden ? '' : (this.notes.textContent ?? '');
    const legendHeight = (placed.length ? row + 1 : 0) * rowHeight + (notes ? rowHeight : 0) + pad;
    const out = document.createElement('canvas');
    out.width = this.canvas.width;
    out.height = titleHeight + this.canvas.height + legendHeight;
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.textBaseline = 'middle';
    ctx.fillStyle = theme.foreground;
    ctx.font = font(15, 'bold');
    ctx.fillText(this.metric, pad, titleHeight / 2 + 2 * scale);
    ctx.drawImage(this.canvas, 0, titleHeight);
    ctx.font = font(12);
    const top = titleHeight + this.canvas.height;
    for (const entry of placed) {
      const y = top + entry.row * rowHeight + rowHeight / 2;
      ctx.fillStyle = rgba(entry.color);
      ctx.fillRect(entry.x, y - swatch / 2, swatch, swatch);
      ctx.fillStyle = theme.foreground;
      ctx.fillText(entry.label, entry.x + swatch + 6 * scale, y);
    }
    if (notes) {
      ctx.fillStyle = theme.muted;
      ctx.fillText(notes, pad, top + (placed.length ? row + 1 : 0) * rowHeight + rowHeight / 2);
    }
    this.host.exportPng(this.metric, out.toDataURL('image/png'));
  }

  destroy(): void {
    cancelAnimationFrame(this.hoverFrame);
    this.chart?.destroy();
    this.chart = null;
    this.root.remove();
  }
}

/** Legend entries of drawn lines: a group says it is a mean ± std. */
function legendEntries(lines: readonly Line[]): { label: string; color: Rgb }[] {
  return lines.map((l) => ({ label: l.group ? `${l.label} · mean ± std` : l.label, color: l.color }));
}

const NONFINITE_NAMES = ['NaN', '+Infinity', '-Infinity'] as const;

/**
 * Where each run's series went NaN or ±Infinity: the first step of each kind for raw points, the
 * first bucket holding any for an envelope (which does not say which kind).
 */
function nonfiniteNotes(lines: readonly Line[]): string {
  const notes: string[] = [];
  for (const line of lines) {
    const s = line.series;
    if (!s) continue;
    const found: string[] = [];
    if (s.nonfinite) {
      const i = s.nonfinite.findIndex((n) => n > 0);
      if (i >= 0) found.push(`NaN/±Infinity from step ${formatNumber(s.step[i]!)}`);
    } else {
      for (const name of NONFINITE_NAMES) {
        const i = s.y.findIndex((v) => String(v) === name.replace('+', ''));
        if (i >= 0) found.push(`${name} at step ${formatNumber(s.step[i]!)}`);
      }
    }
    if (found.length) notes.push(`${line.label}: ${found.join(', ')}`);
  }
  return notes.join(' · ');
}

/**
 * Tick values for a log axis, at most `room` of them: decades (with 2 and 5 between when there is
 * room) over a wide range, evenly spaced round numbers over a narrow one.
 */
export function logTicks(min: number, max: number, room: number): number[] {
  if (!(min > 0) || !(max > min)) return [min];
  const first = Math.ceil(Math.log10(min) - 1e-9);
  const last = Math.floor(Math.log10(max) + 1e-9);
  if (last - first >= 1) {
    for (const multiples of [[1, 2, 5], [1, 5], [1]]) {
      const ticks: number[] = [];
      for (let e = first - 1; e <= last; e++) for (const m of multiples) ticks.push(m * 10 ** e);
      const inside = ticks.filter((t) => t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)).map((t) => +t.toPrecision(12));
      if (inside.length <= room) return inside;
    }
    const every = Math.ceil((last - first + 1) / room);
    return Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((e) => (e - first) % every === 0).map((e) => +(10 ** e).toPrecision(12));
  }
  const raw = (max - min) / Math.max(1, room - 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((x) => x >= raw)!;
  const ticks: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max * (1 + 1e-12); k++) ticks.push(+(k * step).toPrecision(12));
  return ticks;
}
