import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration, type TooltipItem } from 'chart.js';
import type { Histogram, HistoryPoint } from '../../src/core/monitor/report.ts';
import { formatClock, formatNumber } from '../compare/dom.ts';
import { rgba, type Theme } from '../compare/theme.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

/** The charts drawn by the last render: destroyed before the next one draws. */
const drawn: Chart[] = [];

export function destroyCharts(): void {
  for (const chart of drawn.splice(0)) chart.destroy();
}

function draw(canvas: HTMLCanvasElement, config: ChartConfiguration): void {
  drawn.push(new Chart(canvas, config));
}

interface AxisOptions {
  yMax?: number;
  /** Tooltip lines: the label of a point, and a line after it. */
  label?: (item: TooltipItem<'bar' | 'line'>) => string;
  afterLabel?: (item: TooltipItem<'bar' | 'line'>) => string;
}

function baseOptions(theme: Theme, yTitle: string, o: AxisOptions = {}): ChartConfiguration['options'] {
  const callbacks = { ...(o.label ? { label: o.label } : {}), ...(o.afterLabel ? { afterLabel: o.afterLabel } : {}) };
  const font = { family: theme.fontFamily, size: theme.fontSize - 1 };
  return {
    // Live refreshes redraw every few seconds: no animation to sit through.
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { labels: { color: theme.foreground, font, boxWidth: 12 } },
      tooltip: { backgroundColor: theme.hoverBackground, titleColor: theme.hoverForeground, bodyColor: theme.hoverForeground, borderColor: theme.hoverBorder, borderWidth: 1, callbacks },
    },
    scales: {
      x: { ticks: { color: theme.muted, font, maxRotation: 0, autoSkip: true }, grid: { color: theme.grid } },
      y: { beginAtZero: true, ...(o.yMax === undefined ? {} : { max: o.yMax }), title: { display: true, text: yTitle, color: theme.muted, font }, ticks: { color: theme.muted, font }, grid: { color: theme.grid } },
    },
  };
}

/** "12:04": the time each window ends, with seconds when they all fall within ten minutes. */
export function windowLabels(history: readonly HistoryPoint[]): string[] {
  const span = history.length > 1 ? history.at(-1)!.to - history[0]!.from : 0;
  return history.map((w) => formatClock(w.to, span));
}

export function trafficChart(canvas: HTMLCanvasElement, history: readonly HistoryPoint[], theme: Theme): void {
  const [blue, , , , red] = theme.palette;
  draw(canvas, {
    type: 'bar',
    data: {
      labels: windowLabels(history),
      datasets: [
        { label: 'requests', data: history.map((w) => w.requests), backgroundColor: rgba(blue!, 0.6), borderColor: rgba(blue!), borderWidth: 1 },
        { label: 'errors', data: history.map((w) => w.errors), backgroundColor: rgba(red!, 0.7), borderColor: rgba(red!), borderWidth: 1 },
      ],
    },
    options: baseOptions(theme, 'requests per window'),
  });
}

export function latencyChart(canvas: HTMLCanvasElement, history: readonly HistoryPoint[], theme: Theme): void {
  const [blue, orange] = theme.palette;
  const line = (label: string, data: (number | null)[], color: typeof blue) => ({ type: 'line' as const, label, data, borderColor: rgba(color!), backgroundColor: rgba(color!, 0.3), pointRadius: 2, spanGaps: true });
  draw(canvas, {
    type: 'line',
    data: {
      labels: windowLabels(history),
      datasets: [line('p50', history.map((w) => w.p50Ms), blue), line('p95', history.map((w) => w.p95Ms), orange)],
    },
    options: baseOptions(theme, 'latency (ms)'),
  });
}

export function accuracyChart(canvas: HTMLCanvasElement, history: readonly HistoryPoint[], theme: Theme): void {
  const green = theme.palette[2]!;
  draw(canvas, {
    type: 'line',
    data: {
      labels: windowLabels(history),
      datasets: [{ label: 'accuracy of labelled rows', data: history.map((w) => w.accuracy), borderColor: rgba(green), backgroundColor: rgba(green, 0.3), pointRadius: 3, spanGaps: true }],
    },
    options: baseOptions(theme, 'accuracy', { yMax: 1, afterLabel: (item) => `${formatNumber(history[item.dataIndex]?.labeled ?? 0)} labelled rows` }),
  });
}

/** Reference and current shares side by side on the reference's bins. */
export function histogramChart(canvas: HTMLCanvasElement, histogram: Histogram, theme: Theme, yTitle = 'share of rows'): void {
  const [blue, orange] = theme.palette;
  draw(canvas, {
    type: 'bar',
    data: {
      labels: histogram.bins,
      datasets: [
        { label: 'reference', data: histogram.reference, backgroundColor: rgba(blue!, 0.55), borderColor: rgba(blue!), borderWidth: 1 },
        { label: 'current window', data: histogram.current, backgroundColor: rgba(orange!, 0.55), borderColor: rgba(orange!), borderWidth: 1 },
      ],
    },
    options: baseOptions(theme, yTitle, { label: (item) => `${item.dataset.label}: ${formatNumber(Math.round(Number(item.raw) * 1000) / 10)}%` }),
  });
}
