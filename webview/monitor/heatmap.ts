import type { MonitorView } from '../../src/shared/monitorProtocol.ts';
import { formatNumber, h } from '../compare/dom.ts';
import { cssVar, parseColor, rgba } from '../compare/theme.ts';
import { windowLabels } from './charts.ts';

/**
 * PSI per feature (rows) and window (columns, oldest left), in a table that scrolls both ways
 * with the feature names and window labels kept in sight. Colour grows with PSI up to twice the
 * threshold; a drifted cell is also outlined and marked with a sign, so colour is never the only
 * cue. A feature's name is a button that shows its histogram.
 */
export function heatmap(v: MonitorView, selected: string | null, onSelect: (feature: string) => void): HTMLElement {
  const hot = parseColor(cssVar('--vscode-charts-red', '#f14c4c'));
  const labels = windowLabels(v.history);
  const head = h('tr', {}, h('th', { scope: 'col', class: 'corner', text: 'feature' }), ...labels.map((label, i) => h('th', { scope: 'col', text: label, title: `window ${i + 1}: ${formatNumber(v.history[i]!.rows)} rows` })));
  const body = v.features.map((f, fi) => {
    const name = h('button', { type: 'button', class: 'feature', text: f.name, title: f.name, 'aria-pressed': String(f.name === selected), 'aria-label': `Show the histogram of ${f.name}${f.drifted ? ', drifted' : ''}` });
    name.addEventListener('click', () => onSelect(f.name));
    const row = h('tr', { class: f.name === selected ? 'selected' : null }, h('th', { scope: 'row' }, name));
    v.history.forEach((w, wi) => {
      const psi = w.psi[fi] ?? null;
      const drifted = w.drifted[fi] ?? false;
      const cell = h('td', {
        class: `cell${drifted ? ' drifted' : ''}${psi === null ? ' none' : ''}`,
        title: `${f.name} · ${labels[wi]}: PSI ${psi === null ? 'none (no rows)' : formatNumber(+psi.toFixed(3))}${drifted ? ' · drifted' : ''}`,
        text: psi === null ? '' : `${drifted ? '▲' : ''}${psi.toFixed(2)}`,
      });
      if (psi !== null) cell.style.backgroundColor = rgba(hot, Math.min(1, psi / (2 * v.psiThreshold)) * 0.85);
      row.append(cell);
    });
    return row;
  });
  const legend = h('p', { class: 'legend', text: `Cells: PSI of the window against the reference; ▲ and an outline mark drift (PSI ≥ ${v.psiThreshold} or a significant test). Click a feature for its histogram.` });
  return h('div', {}, legend, h('div', { class: 'scroll heatmap-scroll', tabindex: 0, role: 'region', 'aria-label': 'Drift heatmap, scrollable' }, h('table', { class: 'heatmap' }, h('thead', {}, head), h('tbody', {}, ...body))));
}
