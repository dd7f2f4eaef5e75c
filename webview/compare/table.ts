import { describeNonFinite, FAILED_STATUSES, type CellValue, type Direction, type NonFinitePoint, type TableColumn, type TableData, type ViewState } from '../../src/shared/compareProtocol.ts';
import { clear, formatValue, h, icon } from './dom.ts';
import { rgba, type Rgb } from './theme.ts';

export interface TableHost {
  view(): ViewState;
  colorOf(runId: number): Rgb;
  setSort(sort: ViewState['sort']): void;
  highlight(runId: number | null): void;
  setDirection(metric: string, direction: Direction): void;
  codeDiff(a: number, b: number): void;
  exportCsv(): void;
  setOnlyDiffering(only: boolean): void;
  /** Where a run's metric first went NaN or ±Infinity, if it did. */
  nonfiniteOf(runId: number, metric: string): NonFinitePoint | undefined;
}

const cellText = (v: CellValue, column: TableColumn): string =>
  v === null ? '—' : typeof v === 'number' ? (column.kind === 'metric' ? formatValue(v) : String(v)) : v;

/** Sort key: numbers by value, text after numbers, missing last (in either order). */
function compare(a: CellValue, b: CellValue, numeric: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const na = typeof a === 'number' ? a : numeric ? Number(a) : NaN;
  const nb = typeof b === 'number' ? b : numeric ? Number(b) : NaN;
  const fa = Number.isFinite(na);
  const fb = Number.isFinite(nb);
  if (fa && fb) return na - nb;
  if (fa !== fb) return fa ? -1 : 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** The runs table: sortable headers, differing params marked, best value per metric column starred. */
export class RunTable {
  readonly root: HTMLElement;
  private readonly host: TableHost;
  private readonly body: HTMLElement;
  private readonly diffButton: HTMLButtonElement;
  private readonly onlyDiffering: HTMLInputElement;
  private data: TableData | null = null;
  private readonly selected = new Set<number>();

  constructor(host: TableHost) {
    this.host = host;
    this.onlyDiffering = h('input', { type: 'checkbox', id: 'only-differing' });
    this.onlyDiffering.addEventListener('change', () => host.setOnlyDiffering(this.onlyDiffering.checked));
    this.diffButton = h('button', { class: 'text-button', type: 'button', disabled: true }, icon('diff'), ' Diff code of 2 selected runs');
    this.diffButton.addEventListener('click', () => {
      const [a, b] = [...this.selected];
      if (a !== undefined && b !== undefined) host.codeDiff(a, b);
    });
    const csv = h('button', { class: 'text-button', type: 'button' }, icon('desktop-download'), ' Export CSV');
    csv.addEventListener('click', () => host.exportCsv());
    this.body = h('div', { class: 'table-scroll' });
    this.root = h(
      'div',
      { class: 'table-view' },
      h('div', { class: 'toolbar' }, h('label', { class: 'check' }, this.onlyDiffering, ' Only params that differ'), h('span', { class: 'spacer' }), this.diffButton, csv),
      this.body,
    );
  }

  /** New rows; drawn by the next render() (only while the tab is shown). */
  setData(data: TableData): void {
    this.data = data;
    const ids = new Set(data.rows.map((r) => r.runId));
    for (const id of this.selected) if (!ids.has(id)) this.selected.delete(id);
  }

  render(): number {
    clear(this.body);
    const data = this.data;
    if (!data) return 0;
    const view = this.host.view();
    this.onlyDiffering.checked = view.onlyDiffering;
    const visible = data.columns.map((c, i) => ({ c, i })).filter(({ c }) => !(view.onlyDiffering && c.kind === 'param' && !c.differing));
    const rows = [...data.rows];
    const sortIndex = view.sort ? data.columns.findIndex((c) => c.id === view.sort!.column) : -1;
    if (sortIndex >= 0) {
      const column = data.columns[sortIndex]!;
      const sign = view.sort!.descending ? -1 : 1;
      rows.sort((a, b) => {
        const x = a.cells[sortIndex]!;
        const y = b.cells[sortIndex]!;
        // Missing values stay last whichever way the column sorts.
        if (x === null || y === null) return compare(x, y, column.numeric);
        return sign * compare(x, y, column.numeric);
      });
    }

    const headRow = h('tr', {}, h('th', { scope: 'col', class: 'select-col' }, h('span', { class: 'sr-only', text: 'Select for code diff' })));
    for (const { c } of visible) {
      const sorted = view.sort?.column === c.id;
      const th = h('th', {
        scope: 'col',
        class: `${c.kind}${c.differing ? ' differing' : ''}${c.numeric ? ' numeric' : ''}`,
        'aria-sort': sorted ? (view.sort!.descending ? 'descending' : 'ascending') : 'none',
        title: c.differing ? `${c.label}: differs between runs` : c.label,
      });
      const sortButton = h('button', { type: 'button', class: 'sort' }, h('span', { text: c.label }), sorted ? icon(view.sort!.descending ? 'arrow-down' : 'arrow-up') : null);
      sortButton.addEventListener('click', () => this.host.setSort({ column: c.id, descending: sorted ? !view.sort!.descending : c.kind === 'metric' && c.direction === 'max' }));
      th.append(sortButton);
      if (c.kind === 'metric' && c.aggregate === 'best' && c.metric) {
        const dir = c.direction ?? 'max';
        const toggle = h('button', {
          type: 'button',
          class: 'direction',
          title: `Best is the ${dir === 'min' ? 'lowest' : 'highest'} value; click to switch`,
          'aria-label': `${c.metric}: best is ${dir === 'min' ? 'lowest' : 'highest'}. Switch`,
          text: dir === 'min' ? '↓ min' : '↑ max',
        });
        toggle.addEventListener('click', () => this.host.setDirection(c.metric!, dir === 'min' ? 'max' : 'min'));
        th.append(toggle);
      }
      headRow.append(th);
    }

    const tbody = h('tbody');
    const statusColumn = data.columns.findIndex((c) => c.id === 'run.status');
    for (const row of rows) {
      // A failed or crashed run is set apart (and the host never ranks it best).
      const failed = FAILED_STATUSES.includes(String(row.cells[statusColumn]));
      const classes = [row.runId === view.highlight ? 'highlighted' : '', failed ? 'failed' : ''].filter(Boolean).join(' ');
      const tr = h('tr', { tabindex: 0, 'data-run': row.runId, class: classes || null, 'aria-selected': row.runId === view.highlight ? 'true' : 'false' });
      const box = h('input', { type: 'checkbox', 'aria-label': `Select run ${row.runId} for code diff` });
      box.checked = this.selected.has(row.runId);
      box.addEventListener('click', (e) => e.stopPropagation());
      box.addEventListener('change', () => {
        if (box.checked) {
          this.selected.add(row.runId);
          // Two at most: the oldest choice gives way.
          if (this.selected.size > 2) {
            const first = this.selected.values().next().value!;
            this.selected.delete(first);
            const other = this.body.querySelector<HTMLInputElement>(`tr[data-run="${first}"] input[type=checkbox]`);
            if (other) other.checked = false;
          }
        } else this.selected.delete(row.runId);
        this.updateDiffButton();
      });
      tr.append(h('td', { class: 'select-col' }, box));
      for (const { c, i } of visible) {
        const v = row.cells[i]!;
        const best = c.best.includes(row.runId);
        const nonfinite = c.metric ? this.host.nonfiniteOf(row.runId, c.metric) : undefined;
        const td = h('td', {
          class: `${c.kind}${c.differing ? ' differing' : ''}${c.numeric ? ' numeric' : ''}${best ? ' best' : ''}${nonfinite ? ' nonfinite' : ''}`,
          title: nonfinite ? describeNonFinite(c.metric!, nonfinite) : null,
        });
        if (c.id === 'run.name') {
          const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
          swatch.style.backgroundColor = rgba(this.host.colorOf(row.runId));
          td.append(swatch);
        }
        td.append(h('span', { text: cellText(v, c) }));
        if (best) td.append(icon('star-full'), h('span', { class: 'sr-only', text: ' (best)' }));
        if (nonfinite) td.append(icon('warning'), h('span', { class: 'sr-only', text: ` (${describeNonFinite(c.metric!, nonfinite)})` }));
        tr.append(td);
      }
      const toggle = () => this.host.highlight(view.highlight === row.runId ? null : row.runId);
      tr.addEventListener('click', toggle);
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          toggle();
        }
      });
      tbody.append(tr);
    }
    this.body.append(h('table', { class: 'runs-table', 'aria-label': 'Runs: params and metric summaries' }, h('thead', {}, headRow), tbody));
    this.updateDiffButton();
    return rows.length;
  }

  /** Moves the highlight without rebuilding rows (keeps keyboard focus). */
  applyHighlight(): void {
    const focus = this.host.view().highlight;
    for (const tr of this.body.querySelectorAll<HTMLTableRowElement>('tr[data-run]')) {
      const on = Number(tr.dataset.run) === focus;
      tr.classList.toggle('highlighted', on);
      tr.setAttribute('aria-selected', on ? 'true' : 'false');
    }
  }

  private updateDiffButton(): void {
    this.diffButton.disabled = this.selected.size !== 2;
  }
}
