import type { MonitorReport } from '../../src/core/monitor/report.ts';
import { formatNumber, h } from '../compare/dom.ts';
import { cssVar, parseColor, rgba } from '../compare/theme.ts';
import { windowLabels } from './charts.ts';

/** Kept in step with .heatmap th and td.cell in monitor.css. */
const NAME_WIDTH = '24ch';
const CELL_WIDTH = '52px';

/**
 * PSI per feature (rows) and window (columns, oldest left), in a table that scrolls both ways
 * with the feature names and window labels kept in sight. Colour grows with PSI up to twice the
 * threshold; a cell at or above it is also outlined and marked with a sign, so colour is never the only
 * cue. A feature's name is a button that shows its histogram.
 */
export function heatmap(r: MonitorReport, selected: string | null, onSelect: (feature: string) => void): HTMLElement {
  const hot = parseColor(cssVar('--vscode-charts-red', '#f14c4c'));
  const threshold = r.gates.thresholds.psi;
  const points = r.history.points;
  const labels = windowLabels(points);
  const driftedNow = new Set((r.drift?.features ?? []).filter((f) => f.drifted).map((f) => f.name));
  const head = h('tr', {}, h('th', { scope: 'col', class: 'corner', text: 'feature' }), ...labels.map((label, i) => h('th', { scope: 'col', text: label, title: `${label} · window ${i + 1}: ${formatNumber(points[i]!.rows)} rows` })));
  const body = r.history.features.map((feature, fi) => {
    const name = h('button', { type: 'button', class: 'feature', text: feature, title: feature, 'aria-pressed': String(feature === selected), 'aria-label': `Show the histogram of ${feature}${driftedNow.has(feature) ? ', drifted' : ''}` });
    name.addEventListener('click', () => onSelect(feature));
    const row = h('tr', { class: feature === selected ? 'selected' : null }, h('th', { scope: 'row' }, name));
    points.forEach((w, wi) => {
      const psi = w.featurePsi[fi] ?? null;
      const drifted = psi !== null && psi >= threshold;
      const cell = h('td', {
        class: `cell${drifted ? ' drifted' : ''}${psi === null ? ' none' : ''}`,
        title: `${feature} · ${labels[wi]}: PSI ${psi === null ? 'none (no rows)' : formatNumber(+psi.toFixed(3))}${drifted ? ' · drifted' : ''}`,
        text: psi === null ? '' : `${drifted ? '▲' : ''}${psi.toFixed(2)}`,
      });
      if (psi !== null) cell.style.backgroundColor = rgba(hot, Math.min(1, psi / (2 * threshold)) * 0.85);
      row.append(cell);
    });
    return row;
  });
  const legend = h('p', { class: 'legend', text: `Cells: PSI of each window against the reference; ▲ and an outline mark PSI ≥ ${threshold}. Click a feature for its histogram.` });
  const table = h('table', { class: 'heatmap' }, h('thead', {}, head), h('tbody', {}, ...body));
  // A fixed layout (widths from the CSS, not measured from every cell) keeps a large grid cheap to lay out.
  table.style.width = `calc(${NAME_WIDTH} + ${points.length} * ${CELL_WIDTH})`;
  return h('div', {}, legend, h('div', { class: 'scroll heatmap-scroll', tabindex: 0, role: 'region', 'aria-label': 'Drift heatmap, scrollable' }, table));
}
