import { Chart, type ScatterDataPoint, type TooltipItem } from 'chart.js';
import type { RenderedReport, ViewState } from '../../src/shared/compareProtocol.ts';
import { formatNumber, formatValue, h } from './dom.ts';
import { rgba, type Rgb, type Theme } from './theme.ts';

/** What the parallel-coordinates and scatter plots need from the app. */
export interface PlotHost {
  view(): ViewState;
  theme(): Theme;
  runIds(): number[];
  colorOf(runId: number): Rgb;
  nameOf(runId: number): string;
  paramOf(runId: number, param: string): string | undefined;
  /** The metric's value of a run by the view's aggregate (last or best), or null. */
  metricValue(runId: number, metric: string): number | null;
  /** Params to show as axes: those that vary among the runs. */
  axisParams(): string[];
  highlight(runId: number | null): void;
  report(report: RenderedReport): void;
}

/** How raw values map to [0, 1] on an axis: numbers (log when they span decades), or categories. */
export interface Axis {
  label: string;
  kind: 'linear' | 'log' | 'category';
  min: number;
  max: number;
  categories: string[];
  /** Position in [0, 1] of a value, or null when missing. */
  position(value: string | number | undefined | null): number | null;
  ticks(): { at: number; text: string }[];
}

export function makeAxis(label: string, values: (string | number | null | undefined)[]): Axis {
  const present = values.filter((v): v is string | number => v !== null && v !== undefined && v !== '');
  const nums = present.map(Number);
  const numeric = present.length > 0 && nums.every(Number.isFinite);
  if (numeric) {
    let min = Math.min(...nums);
    let max = Math.max(...nums);
    const log = min > 0 && max / min >= 100;
    if (min === max) {
      min -= Math.abs(min) * 0.5 || 1;
      max += Math.abs(max) * 0.5 || 1;
    }
    const t = (x: number) => (log ? Math.log10(x) : x);
    const lo = t(min);
    const hi = t(max);
    return {
      label,
      kind: log ? 'log' : 'linear',
      min,
      max,
      categories: [],
      position: (v) => {
        if (v === null || v === undefined || v === '') return null;
        const x = Number(v);
        return Number.isFinite(x) && (!log || x > 0) ? (t(x) - lo) / (hi - lo) : null;
      },
      ticks: () => {
        const out: { at: number; text: string }[] = [];
        if (log) {
          for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) out.push({ at: (e - lo) / (hi - lo), text: formatNumber(10 ** e) });
          if (out.length < 2) [lo, hi].forEach((e, i) => out.push({ at: i, text: formatNumber(10 ** e) }));
        } else {
          for (let k = 0; k <= 4; k++) out.push({ at: k / 4, text: formatNumber(min + ((max - min) * k) / 4) });
        }
        return out;
      },
    };
  }
  const categories = [...new Set(present.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const n = categories.length;
  const pos = (i: number) => (n === 1 ? 0.5 : i / (n - 1));
  return {
    label,
    kind: 'category',
    min: 0,
    max: Math.max(0, n - 1),
    categories,
    position: (v) => {
      if (v === null || v === undefined || v === '') return null;
      const i = categories.indexOf(String(v));
      return i < 0 ? null : pos(i);
    },
    ticks: () => {
      const every = Math.max(1, Math.ceil(n / 12));
      return categories.flatMap((c, i) => (i % every === 0 ? [{ at: pos(i), text: c }] : []));
    },
  };
}

/** Cuts text to a pixel width with an ellipsis. */
function fit(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

function setupCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Moves the highlight through the visible runs with the arrow keys (canvas plots are focusable). */
function cycleHighlight(host: PlotHost, e: KeyboardEvent): void {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Escape') return;
  e.preventDefault();
  if (e.key === 'Escape') return host.highlight(null);
  const hidden = new Set(host.view().hidden);
  const ids = host.runIds().filter((id) => !hidden.has(id));
  if (!ids.length) return;
  const at = ids.indexOf(host.view().highlight ?? -1);
  const next = at < 0 ? (e.key === 'ArrowDown' ? 0 : ids.length - 1) : (at + (e.key === 'ArrowDown' ? 1 : -1) + ids.length) % ids.length;
  host.highlight(ids[next]!);
}

/** Parallel coordinates over the params that differ and one metric, drawn on a canvas. */
export class ParallelPlot {
  readonly root: HTMLElement;
  private readonly host: PlotHost;
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private lines: { runId: number; points: ([number, number] | null)[] }[] = [];

  constructor(host: PlotHost) {
    this.host = host;
    this.canvas = h('canvas', { tabindex: 0, role: 'img', 'aria-label': 'Parallel coordinates of params and the chosen metric. Arrow keys move the highlight between runs.' });
    this.caption = h('p', { class: 'caption' });
    this.root = h('div', { class: 'plot-view' }, this.canvas, this.caption);
    this.canvas.addEventListener('click', (e) => this.pick(e));
    this.canvas.addEventListener('keydown', (e) => cycleHighlight(host, e));
    new ResizeObserver(() => {
      if (this.root.isConnected && this.root.clientWidth > 0) this.render();
    }).observe(this.root);
  }

  render(): void {
    const started = performance.now();
    const host = this.host;
    const view = host.view();
    const theme = host.theme();
    const metric = view.metric;
    const params = host.axisParams().slice(0, 12);
    const hidden = new Set(view.hidden);
    const runIds = host.runIds().filter((id) => !hidden.has(id));
    const axes: Axis[] = params.map((p) => makeAxis(p, runIds.map((id) => host.paramOf(id, p))));
    if (metric) axes.push(makeAxis(`${metric} (${view.aggregate})`, runIds.map((id) => host.metricValue(id, metric))));
    const width = Math.max(320, this.root.clientWidth);
    const height = 400;
    const ctx = setupCanvas(this.canvas, width, height);
    ctx.clearRect(0, 0, width, height);
    const font = `${Math.max(10, theme.fontSize - 1)}px ${theme.fontFamily}`;
    ctx.font = font;
    if (axes.length < 2) {
      ctx.fillStyle = theme.muted;
      ctx.fillText(axes.length ? 'Pick a metric, or runs with params, to draw more axes.' : 'No params or metrics to draw.', 16, 32);
      this.caption.textContent = '';
      this.lines = [];
      return;
    }
    const top = 44;
    const bottom = height - 28;
    const left = 70;
    const right = width - 70;
    const gap = (right - left) / (axes.length - 1);
    const ax = (i: number) => left + i * gap;
    const ay = (p: number) => bottom - p * (bottom - top);

    this.lines = runIds.map((runId) => ({
      runId,
      points: axes.map((a, i) => {
        const raw = i < params.length ? host.paramOf(runId, params[i]!) : metric ? host.metricValue(runId, metric) : null;
        const p = a.position(raw);
        return p === null ? null : ([ax(i), ay(p)] as [number, number]);
      }),
    }));
    const focus = view.highlight;
    const dim = focus !== null && runIds.includes(focus);
    const drawLine = (line: (typeof this.lines)[number], color: string, lineWidth: number) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = lineWidth;
      ctx.beginPath();
      let open = false;
      for (const p of line.points) {
        if (!p) {
          open = false;
          continue;
        }
        if (open) ctx.lineTo(p[0], p[1]);
        else ctx.moveTo(p[0], p[1]);
        open = true;
      }
      ctx.stroke();
    };
    ctx.lineJoin = 'round';
    for (const line of this.lines) if (line.runId !== focus) drawLine(line, rgba(host.colorOf(line.runId), dim ? 0.12 : 0.6), 1.25);

    // Axes over the lines, labels over everything.
    axes.forEach((a, i) => {
      const x = ax(i);
      ctx.strokeStyle = theme.muted;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.fillStyle = theme.foreground;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.font = `600 ${font}`;
      ctx.fillText(fit(ctx, a.label, gap - 8), x, top - 14);
      ctx.font = font;
      ctx.fillStyle = theme.muted;
      ctx.textBaseline = 'middle';
      ctx.textAlign = i === axes.length - 1 ? 'left' : 'right';
      for (const t of a.ticks()) {
        const y = ay(t.at);
        ctx.fillRect(x - 3, y, 6, 1);
        ctx.fillText(fit(ctx, t.text, 60), i === axes.length - 1 ? x + 6 : x - 6, y);
      }
    });
    const line = this.lines.find((l) => l.runId === focus);
    if (line) {
      drawLine(line, theme.background, 5);
      drawLine(line, rgba(host.colorOf(line.runId)), 3);
    }
    this.canvas.setAttribute('aria-label', `Parallel coordinates. Axes: ${axes.map((a) => a.label).join(', ')}. Arrow keys move the highlight between runs.`);
    this.caption.textContent = `${runIds.length} runs over ${params.length} param${params.length === 1 ? '' : 's'}${metric ? ` and ${metric}` : ''}. Click a line to highlight its run.`;
    host.report({ view: 'parallel', metric, requestId: null, series: this.lines.map((l) => ({ runId: l.runId, group: null, points: l.points.filter(Boolean).length })), ms: performance.now() - started });
  }

  private pick(e: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    let best: number | null = null;
    let bestDistance = 6;
    for (const line of this.lines) {
      for (let i = 1; i < line.points.length; i++) {
        const a = line.points[i - 1];
        const b = line.points[i];
        if (!a || !b) continue;
        const d = segmentDistance(px, py, a, b);
        if (d < bestDistance) {
          bestDistance = d;
          best = line.runId;
        }
      }
    }
    this.host.highlight(best === this.host.view().highlight ? null : best);
  }
}

function segmentDistance(px: number, py: number, [ax, ay]: [number, number], [bx, by]: [number, number]): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** One param against one metric: a point per run. */
export class ScatterPlot {
  readonly root: HTMLElement;
  private readonly host: PlotHost;
  private readonly canvas: HTMLCanvasElement;
  private chart: Chart<'scatter'> | null = null;
  private runIds: number[] = [];

  constructor(host: PlotHost) {
    this.host = host;
    this.canvas = h('canvas', { tabindex: 0, role: 'img', 'aria-label': 'Scatter of a param against a metric, one point per run. Arrow keys move the highlight between runs.' });
    this.canvas.addEventListener('keydown', (e) => cycleHighlight(host, e));
    this.root = h('div', { class: 'plot-view scatter' }, h('div', { class: 'scatter-body' }, this.canvas));
  }

  render(): void {
    const started = performance.now();
    const host = this.host;
    const view = host.view();
    const theme = host.theme();
    const param = view.scatterParam;
    const metric = view.metric;
    const hidden = new Set(view.hidden);
    const ids = host.runIds().filter((id) => !hidden.has(id));
    const xAxis = makeAxis(param ?? '', ids.map((id) => (param ? host.paramOf(id, param) : undefined)));
    const data: ScatterDataPoint[] = [];
    this.runIds = [];
    for (const id of ids) {
      const raw = param ? host.paramOf(id, param) : undefined;
      const x = xAxis.kind === 'category' ? xAxis.categories.indexOf(String(raw)) : Number(raw);
      const y = metric ? host.metricValue(id, metric) : null;
      if (raw === undefined || y === null || !Number.isFinite(x) || x < 0 || !Number.isFinite(y)) continue;
      data.push({ x, y });
      this.runIds.push(id);
    }
    const focus = view.highlight;
    const colors = this.runIds.map((id) => rgba(host.colorOf(id), focus !== null && id !== focus ? 0.35 : 1));
    const radius = this.runIds.map((id) => (id === focus ? 7 : 4));
    const font = { family: theme.fontFamily, size: Math.max(10, theme.fontSize - 2) };
    const cats = xAxis.categories;
    const options = {
      animation: false as const,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false as const,
      onClick: (_e: unknown, items: { index: number }[]) => {
        const id = items[0] ? this.runIds[items[0].index]! : null;
        host.highlight(id === host.view().highlight ? null : id);
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          backgroundColor: theme.hoverBackground,
          titleColor: theme.hoverForeground,
          bodyColor: theme.hoverForeground,
          borderColor: theme.hoverBorder,
          borderWidth: 1,
          titleFont: font,
          bodyFont: font,
          callbacks: {
            title: (items: TooltipItem<'scatter'>[]) => (items[0] ? host.nameOf(this.runIds[items[0].dataIndex]!) : ''),
            label: (item: TooltipItem<'scatter'>) => {
              const id = this.runIds[item.dataIndex]!;
              return [`${param} = ${param ? host.paramOf(id, param) : ''}`, `${metric} (${view.aggregate}) = ${formatValue(item.parsed.y ?? NaN)}`];
            },
          },
        },
      },
      scales: {
        x: {
          type: xAxis.kind === 'log' ? ('logarithmic' as const) : ('linear' as const),
          offset: xAxis.kind === 'category',
          title: { display: true, text: param ?? '', color: theme.muted, font },
          ticks:
            xAxis.kind === 'category'
              ? { color: theme.muted, font, stepSize: 1, autoSkip: false, callback: (v: string | number) => cats[Number(v)] ?? '' }
              : { color: theme.muted, font, callback: (v: string | number) => formatNumber(Number(v)) },
          min: xAxis.kind === 'category' ? -0.5 : undefined,
          max: xAxis.kind === 'category' ? cats.length - 0.5 : undefined,
          grid: { color: theme.grid },
          border: { color: theme.grid },
        },
        y: {
          title: { display: true, text: metric ? `${metric} (${view.aggregate})` : '', color: theme.muted, font },
          ticks: { color: theme.muted, font, callback: (v: string | number) => formatNumber(Number(v)) },
          grid: { color: theme.grid },
          border: { color: theme.grid },
        },
      },
    };
    const dataset = { data, pointBackgroundColor: colors, pointBorderColor: colors.map((c, i) => (this.runIds[i] === focus ? theme.foreground : c)), pointRadius: radius, pointHoverRadius: 8, pointBorderWidth: 1.5 };
    if (!this.chart) {
      this.chart = new Chart(this.canvas, { type: 'scatter', data: { datasets: [dataset] }, options });
    } else {
      this.chart.data.datasets = [dataset];
      this.chart.options = options;
      this.chart.update('none');
    }
    host.report({ view: 'scatter', metric, requestId: null, series: [{ runId: null, group: null, points: data.length }], ms: performance.now() - started });
  }
}
