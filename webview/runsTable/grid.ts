/**
 * The virtual grid: only the rows and columns in view are in the DOM (10,000 runs × 50 columns
 * keep a few hundred cells), rebuilt on scroll in an animation frame. Pinned columns stay put
 * with `position: sticky`, so they never lag the native scroll. Every user string is set as text.
 */
import type { SortKey, TableRun } from '../../src/shared/runsTableProtocol.ts';
import { h, icon } from '../compare/dom.ts';
import { cellOf, columnOf, DEFAULT_WIDTHS, MIN_WIDTH, type CellContext, type Column, type Line } from './model.ts';

export const ROW_HEIGHT = 24;
/** Rows drawn beyond the viewport each side, so a fast wheel does not show blank rows. */
const OVERSCAN = 8;

const STATUS_ICONS: Record<string, string> = {
  queued: 'clock',
  running: 'sync codicon-modifier-spin',
  finished: 'pass',
  failed: 'error',
  killed: 'circle-slash',
  crashed: 'warning',
};

/** What the grid shows: the page's model after filter, sort and grouping. */
export interface GridData {
  lines: readonly Line[];
  columns: readonly Column[];
  pinned: ReadonlySet<string>;
  widths: Readonly<Record<string, number>>;
  sort: readonly SortKey[];
  best: ReadonlyMap<string, number>;
  selected: ReadonlySet<number>;
  focused: number | null;
  cells: CellContext;
  /** Metric columns' header suffix: `(min)`, `(best)`. */
  headerNote(column: Column): string;
}

export interface GridEvents {
  rowClick(lineIndex: number, e: MouseEvent): void;
  rowOpen(runId: number): void;
  headerClick(column: string, addKey: boolean): void;
  resize(column: string, width: number): void;
  reorder(column: string, before: string): void;
  key(e: KeyboardEvent): void;
}

export class Grid {
  readonly viewport: HTMLDivElement;
  private readonly canvas: HTMLDivElement;
  private readonly header: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private data: GridData | undefined;
  private frame = 0;
  /** Bumped by each `set`: rows drawn for an older version are drawn again. */
  private version = 0;
  /** The version and columns the drawn header and rows show. */
  private drawn = '';
  private readonly events: GridEvents;

  constructor(events: GridEvents) {
    this.events = events;
    this.header = h('div', { class: 'grid-header', role: 'row' });
    this.body = h('div', { class: 'grid-body', role: 'rowgroup' });
    this.canvas = h('div', { class: 'grid-canvas' }, this.header, this.body);
    this.viewport = h('div', { class: 'grid-viewport', tabindex: 0, role: 'grid', 'aria-multiselectable': 'true', 'aria-label': 'Runs' }, this.canvas);
    this.viewport.addEventListener('scroll', () => this.schedule());
    this.viewport.addEventListener('keydown', (e) => events.key(e));
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
    this.body.addEventListener('click', (e) => {
      const index = lineIndexOf(e.target);
      if (index !== undefined) events.rowClick(index, e);
    });
    this.body.addEventListener('dblclick', (e) => {
      const index = lineIndexOf(e.target);
      const line = index === undefined ? undefined : this.data?.lines[index];
      if (line?.kind === 'run') events.rowOpen(line.run.id);
    });
  }

  width(column: Column): number {
    const w = this.data?.widths[column.id];
    return w ?? DEFAULT_WIDTHS[column.kind === 'fixed' ? column.id : column.kind]!;
  }

  /** New data: drawn now, at the current scroll. */
  set(data: GridData): void {
    this.data = data;
    this.version++;
    this.draw();
  }

  /** The selection or focus changed: the drawn rows are marked in place (a double-click's rows must stay the same elements). */
  mark(selected: ReadonlySet<number>, focused: number | null): void {
    if (!this.data) return;
    this.data = { ...this.data, selected, focused };
    for (const r of this.body.querySelectorAll<HTMLElement>('.grid-row[data-run-id]')) {
      const id = Number(r.dataset.runId);
      r.classList.toggle('selected', selected.has(id));
      r.classList.toggle('focused', focused === id);
      r.setAttribute('aria-selected', String(selected.has(id)));
    }
  }

  /** Scrolls the line into view (keyboard moves). */
  reveal(lineIndex: number): void {
    const top = lineIndex * ROW_HEIGHT;
    const view = this.viewport.clientHeight - this.header.offsetHeight;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > this.viewport.scrollTop + view) this.viewport.scrollTop = top + ROW_HEIGHT - view;
  }

  /** Rows that fit in the viewport (Page Up/Down). */
  get pageRows(): number {
    return Math.max(1, Math.floor((this.viewport.clientHeight - this.header.offsetHeight) / ROW_HEIGHT) - 1);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw(): void {
    const data = this.data;
    if (!data) return;
    const pinned = data.columns.filter((c) => data.pinned.has(c.id));
    const free = data.columns.filter((c) => !data.pinned.has(c.id));
    const pinnedWidth = pinned.reduce((sum, c) => sum + this.width(c), 0);
    const total = pinnedWidth + free.reduce((sum, c) => sum + this.width(c), 0);
    this.canvas.style.width = `${total}px`;
    this.body.style.height = `${data.lines.length * ROW_HEIGHT}px`;
    this.viewport.setAttribute('aria-rowcount', String(data.lines.length + 1));
    this.viewport.setAttribute('aria-colcount', String(data.columns.length));

    // Free columns in view: those crossing [scrollLeft + pinned, scrollLeft + width].
    const left = this.viewport.scrollLeft + pinnedWidth;
    const right = this.viewport.scrollLeft + this.viewport.clientWidth;
    let x = pinnedWidth;
    let gap = 0;
    const shown: Column[] = [];
    for (const c of free) {
      const w = this.width(c);
      if (x + w > left && x < right) {
        if (shown.length === 0) gap = x - pinnedWidth;
        shown.push(c);
      }
      x += w;
    }
    const offsets = new Map<string, number>();
    pinned.reduce((at, c) => (offsets.set(c.id, at), at + this.width(c)), 0);

    const signature = `${this.version}|${gap}|${shown.map((c) => c.id).join('\n')}`;
    if (signature !== this.drawn) {
      // A header with the keyboard focus is drawn anew: the focus moves to its successor.
      const focusedHeader = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('.grid-header .grid-cell')?.dataset.column;
      this.header.replaceChildren(...pinned.map((c) => this.headerCell(c, data, offsets.get(c.id))), spacer(gap), ...shown.map((c) => this.headerCell(c, data, undefined)));
      if (focusedHeader !== undefined) this.header.querySelector<HTMLElement>(`.grid-cell[data-column="${CSS.escape(focusedHeader)}"]`)?.focus({ preventScroll: true });
    }

    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(data.lines.length, Math.ceil((this.viewport.scrollTop + this.viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    // Rows already drawn for the same data and columns stay: a scroll adds and removes only the rows that enter and leave.
    const reuse = signature === this.drawn;
    this.drawn = signature;
    const kept = new Map<number, HTMLElement>();
    for (const r of [...this.body.children] as HTMLElement[]) {
      const i = Number(r.dataset.line);
      if (reuse && i >= first && i < last) kept.set(i, r);
      else r.remove();
    }
    for (let i = first; i < last; i++) {
      const existing = kept.get(i);
      if (existing) continue;
      const line = data.lines[i]!;
      if (line.kind === 'group') {
        const label = h('div', { class: 'group-label', text: `${line.label} · ${line.count} run${line.count === 1 ? '' : 's'}` });
        this.body.appendChild(row(i, 'grid-row group', total, label));
        continue;
      }
      const cells = [...pinned.map((c) => this.cell(line.run, c, data, offsets.get(c.id))), spacer(gap), ...shown.map((c) => this.cell(line.run, c, data, undefined))];
      const r = row(i, 'grid-row', total, ...cells);
      r.setAttribute('aria-rowindex', String(i + 2));
      r.dataset.runId = String(line.run.id);
      if (data.selected.has(line.run.id)) r.classList.add('selected');
      if (data.focused === line.run.id) r.classList.add('focused');
      r.setAttribute('aria-selected', String(data.selected.has(line.run.id)));
      this.body.appendChild(r);
    }
  }

  private headerCell(column: Column, data: GridData, stickyLeft: number | undefined): HTMLElement {
    const sortIndex = data.sort.findIndex((k) => k.column === column.id);
    const key = data.sort[sortIndex];
    const label = column.id === 'status' ? '' : `${column.label}${data.headerNote(column)}`;
    const cell = h(
      'div',
      {
        class: `grid-cell head ${column.kind}`,
        role: 'columnheader',
        title: column.kind === 'fixed' ? `${column.label}: click to sort, Shift+click to add a sort key` : `${column.kind} ${column.key}: click to sort, Shift+click to add a sort key, drag to move`,
        'aria-sort': key ? (key.descending ? 'descending' : 'ascending') : 'none',
        'aria-label': column.id === 'status' ? 'Status' : undefined,
        // Keyboard: Tab reaches the headers; Enter sorts, Shift+Enter adds a sort key.
        tabindex: 0,
        draggable: 'true',
      },
      column.kind === 'fixed' ? null : h('span', { class: 'kind', text: column.kind === 'param' ? 'P' : 'M' }),
      h('span', { class: 'label', text: label }),
      key ? h('span', { class: 'sort', text: `${key.descending ? '↓' : '↑'}${data.sort.length > 1 ? sortIndex + 1 : ''}` }) : null,
    );
    cell.dataset.column = column.id;
    place(cell, this.width(column), stickyLeft);
    cell.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).classList.contains('resize')) return;
      this.events.headerClick(column.id, e.shiftKey);
    });
    cell.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();
      e.stopPropagation();
      this.events.headerClick(column.id, e.shiftKey);
    });
    cell.addEventListener('dragstart', (e) => e.dataTransfer?.setData('text/x-runboard-column', column.id));
    cell.addEventListener('dragover', (e) => e.preventDefault());
    cell.addEventListener('drop', (e) => {
      e.preventDefault();
      const moved = e.dataTransfer?.getData('text/x-runboard-column');
      if (moved && moved !== column.id) this.events.reorder(moved, column.id);
    });
    const handle = h('span', { class: 'resize', 'aria-hidden': 'true' });
    handle.addEventListener('pointerdown', (e) => this.startResize(e, column));
    cell.appendChild(handle);
    return cell;
  }

  private startResize(e: PointerEvent, column: Column): void {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const startWidth = this.width(column);
    // On the window: each move redraws the header, which replaces the handle.
    const move = (m: PointerEvent) => this.events.resize(column.id, Math.max(MIN_WIDTH, Math.round(startWidth + m.clientX - startX)));
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }

  private durationCell(run: TableRun, column: Column, data: GridData, stickyLeft: number | undefined): HTMLElement {
    const c = h('div', { class: 'grid-cell number', role: 'gridcell', text: cellOf(run, column, data.cells).text });
    c.dataset.runningDuration = String(run.id);
    place(c, this.width(column), stickyLeft);
    return c;
  }

  private cell(run: TableRun, column: Column, data: GridData, stickyLeft: number | undefined): HTMLElement {
    if (column.id === 'status') {
      const c = h('div', { class: `grid-cell status status-${run.status}`, role: 'gridcell', title: run.status }, icon(STATUS_ICONS[run.status] ?? 'circle'));
      place(c, this.width(column), stickyLeft);
      return c;
    }
    const value = cellOf(run, column, data.cells);
    if (column.id === 'duration' && run.status === 'running') return this.durationCell(run, column, data, stickyLeft);
    const best = data.best.get(column.id);
    const isBest = best !== undefined && value.sort === best && value.tone === 'number';
    const c = h('div', { class: `grid-cell ${value.tone}${isBest ? ' best' : ''}`, role: 'gridcell' });
    c.textContent = value.text;
    const notes: string[] = [];
    if (isBest) notes.push('best');
    if (value.nonfinitePoints) {
      c.classList.add('had-nonfinite');
      notes.push(`${value.nonfinitePoints} NaN/±Inf point${value.nonfinitePoints === 1 ? '' : 's'} in the series`);
    }
    c.title = notes.length ? `${value.text} (${notes.join('; ')})` : value.text;
    place(c, this.width(column), stickyLeft);
    return c;
  }
}

/** The cells of running runs' durations, updated in place each second (no rows replaced). */
export function tickDurations(viewport: HTMLElement, runs: ReadonlyMap<number, TableRun>, cells: CellContext): void {
  for (const c of viewport.querySelectorAll<HTMLElement>('.grid-cell[data-running-duration]')) {
    const run = runs.get(Number(c.dataset.runningDuration));
    if (run) c.textContent = cellOf(run, columnOf('duration'), cells).text;
  }
}

function place(cell: HTMLElement, width: number, stickyLeft: number | undefined): void {
  cell.style.width = `${width}px`;
  if (stickyLeft === undefined) return;
  cell.classList.add('pinned');
  cell.style.left = `${stickyLeft}px`;
}

function spacer(width: number): HTMLElement {
  const s = h('div', { class: 'grid-gap', 'aria-hidden': 'true' });
  s.style.width = `${width}px`;
  return s;
}

function row(index: number, className: string, width: number, ...children: HTMLElement[]): HTMLElement {
  const r = h('div', { class: className, role: 'row' }, ...children);
  r.dataset.line = String(index);
  r.style.top = `${index * ROW_HEIGHT}px`;
  r.style.width = `${width}px`;
  return r;
}

function lineIndexOf(target: EventTarget | null): number | undefined {
  const r = (target as HTMLElement | null)?.closest<HTMLElement>('.grid-row');
  return r?.dataset.line === undefined ? undefined : Number(r.dataset.line);
}
