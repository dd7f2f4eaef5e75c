// The Runs Table webview: every run with params and metrics as columns. It holds the runs the host
// sent, recomputes filter, sort, groups and marks from them and the view, and draws only what is
// in view. Live updates replace runs by id, so scroll, selection and sort stay.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './runsTable.css';
import type { Direction } from '../../src/shared/compareProtocol.ts';
import { DEFAULT_VIEW, type HostMessage, type RenderedReport, type TableAction, type TableRun, type TableView, type WebviewMessage } from '../../src/shared/runsTableProtocol.ts';
import { caretLine } from '../../src/shared/runFilter.ts';
import { el, h, icon } from '../compare/dom.ts';
import { reportPageErrors } from '../shared/pageErrors.ts';
import { hostChannel } from '../shared/vscodeApi.ts';
import { ColumnChooser } from './chooser.ts';
import { compileFilter, type CompiledFilter } from './filter.ts';
import { Grid, tickDurations, type GridData } from './grid.ts';
import { aggregateOf, allColumns, arrangeColumns, bestValues, constantColumns, directionOf, groupLines, sortRuns, type CellContext, type Column, type Line } from './model.ts';

const channel = hostChannel<WebviewMessage, TableView>();
const post = (message: WebviewMessage) => channel.post(message);

/** How long the page waits after the last keystroke or drag before telling the host to keep the view. */
const SAVE_DELAY_MS = 300;
const FILTER_DELAY_MS = 120;
/** Durations of running runs tick this often. */
const TICK_MS = 1000;

const runs = new Map<number, TableRun>();
let directions: Record<string, Direction> = {};
let view: TableView = { ...DEFAULT_VIEW };
let received = false;
/** Host clock minus page clock, so durations agree with the host's times. */
let clockOffset = 0;
let filter: CompiledFilter = compileFilter('', Date.now());
let selected = new Set<number>();
let focused: number | null = null;
let anchor: number | null = null;

// What the last recompute produced.
let lines: Line[] = [];
let lineOfRun = new Map<number, number>();
let arranged: Column[] = [];
let shownCount = 0;
let lastGrid: GridData | undefined;
let allKnown: Column[] = [];

const app = document.getElementById('app')!;

const grid = new Grid({
  rowClick: (index, e) => clickLine(index, e),
  rowOpen: (runId) => post({ type: 'open', runId }),
  headerClick: (column, add) => sortBy(column, add),
  resize: (column, width) => changeView((v) => ({ ...v, widths: withKey(v.widths, column, width) }), false),
  reorder: (column, before) =>
    changeView((v) => {
      const order = arranged.map((c) => c.id).filter((id) => id !== column);
      order.splice(order.indexOf(before), 0, column);
      return { ...v, order };
    }),
  key: (e) => onKey(e),
});

const filterBox = el('vscode-textfield', { id: 'filter', placeholder: 'Filter: params.lr < 0.1 and metrics.val_accuracy >= 0.94 and status = finished', 'aria-label': 'Filter runs' }) as HTMLElement & { value: string };
const filterError = h('div', { class: 'filter-error', role: 'alert', hidden: true });
const groupSelect = el('vscode-single-select', { id: 'group-by', 'aria-label': 'Group by' }) as HTMLElement & { value: string };
const hideConstant = el('vscode-checkbox', { id: 'hide-constant', label: 'Hide constant columns' }) as HTMLElement & { checked: boolean };
const columnsButton = el('vscode-button', { id: 'columns', secondary: true, icon: 'list-selection', title: 'Choose, pin and order columns' }, 'Columns');
const count = h('span', { class: 'count', 'aria-live': 'polite' });

const chooser = new ColumnChooser({ view: () => view, columns: () => arranged, change: (update) => changeView(update) });

const ACTION_LABELS: Record<TableAction, { label: string; icon: string }> = {
  compare: { label: 'Compare', icon: 'graph-line' },
  diff: { label: 'Diff Code', icon: 'diff' },
  stop: { label: 'Stop', icon: 'debug-stop' },
  rerun: { label: 'Re-run', icon: 'debug-restart' },
  delete: { label: 'Delete', icon: 'trash' },
  registerModel: { label: 'Register Model', icon: 'package' },
  copyIds: { label: 'Copy IDs', icon: 'copy' },
};
const actionButtons = new Map<TableAction, HTMLElement & { disabled: boolean }>();
for (const [action, { label, icon: glyph }] of Object.entries(ACTION_LABELS) as [TableAction, { label: string; icon: string }][]) {
  const b = el('vscode-button', { 'data-action': action, secondary: action !== 'compare', icon: glyph }, label) as HTMLElement & { disabled: boolean };
  b.addEventListener('click', () => {
    if (!b.disabled) post({ type: 'action', action, runIds: selectedInOrder() });
  });
  actionButtons.set(action, b);
}

filterBox.addEventListener('input', debounce(() => changeView((v) => ({ ...v, filter: filterBox.value })), FILTER_DELAY_MS));
groupSelect.addEventListener('change', () => changeView((v) => ({ ...v, groupBy: groupSelect.value || null })));
hideConstant.addEventListener('change', () => changeView((v) => ({ ...v, hideConstant: hideConstant.checked })));
columnsButton.addEventListener('click', () => chooser.toggle());

app.append(
  h('div', { class: 'toolbar' }, filterBox, h('label', { class: 'group-label-text', text: 'Group by' }), groupSelect, hideConstant, columnsButton, count),
  filterError,
  h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Actions on the selected runs' }, ...actionButtons.values()),
  h('div', { class: 'grid-wrap' }, grid.viewport, chooser.element),
);

const saveLater = debounce(() => post({ type: 'saveView', view }), SAVE_DELAY_MS);

function changeView(update: (v: TableView) => TableView, full = true): void {
  const before = view.filter;
  view = update(view);
  channel.saveView(view);
  saveLater();
  if (view.filter !== before) filter = compileFilter(view.filter, now());
  if (full) recompute();
  else redraw();
  chooser.render();
}

const now = () => Date.now() + clockOffset;

function cellContext(): CellContext {
  return { view, directions, now: now() };
}

/** Filter, columns, sort, groups and marks from the runs and the view; then draws and reports. */
function recompute(): void {
  const started = performance.now();
  const ctx = cellContext();
  const all = allColumns(runs.values());
  arranged = arrangeColumns(all, view);
  const list = [...runs.values()];
  const filtered = filter.test ? list.filter(filter.test) : list;
  shownCount = filtered.length;
  const constant = view.hideConstant ? constantColumns(filtered, arranged, ctx) : new Set<string>();
  const hidden = new Set(view.hidden);
  const columns = arranged.filter((c) => !hidden.has(c.id) && !constant.has(c.id));
  lines = groupLines(sortRuns(filtered, view.sort, ctx), view.groupBy, runs);
  lineOfRun = new Map();
  lines.forEach((line, i) => line.kind === 'run' && lineOfRun.set(line.run.id, i));
  // A selected run that went (deleted, or filtered out) is no longer selected: actions act on what is seen.
  selected = new Set([...selected].filter((id) => lineOfRun.has(id)));
  if (focused !== null && !lineOfRun.has(focused)) focused = null;
  lastGrid = {
    lines,
    columns,
    pinned: new Set(view.pinned),
    widths: view.widths,
    sort: view.sort,
    best: bestValues(filtered, columns, ctx),
    selected,
    focused,
    cells: ctx,
    headerNote,
  };
  grid.set(lastGrid);
  allKnown = all;
  showControls();
  const report: RenderedReport = {
    rows: filtered.length,
    total: runs.size,
    columns: columns.map((c) => c.id),
    order: lines.flatMap((l) => (l.kind === 'run' ? [l.run.id] : [])).slice(0, 100),
    selected: selectedInOrder(),
    filterError: filter.error?.message ?? null,
    ms: Math.round((performance.now() - started) * 10) / 10,
  };
  app.setAttribute('aria-busy', 'false');
  post({ type: 'rendered', report });
}

/** Selection, focus, widths or the clock changed: the same lines and columns, drawn again. */
function redraw(): void {
  if (lastGrid) grid.set((lastGrid = { ...lastGrid, selected, focused, widths: view.widths, cells: cellContext() }));
}

/** A metric column's header says which value it shows when not the last: `(min)`, `(best max)`. */
function headerNote(c: Column): string {
  if (c.kind !== 'metric') return '';
  const aggregate = aggregateOf(view, c.key);
  if (aggregate === 'last') return '';
  return ` (${aggregate}${aggregate === 'best' ? ` ${directionOf(directions, c.key)}` : ''})`;
}

function showControls(): void {
  const all = allKnown;
  count.textContent = `${shownCount === runs.size ? `${runs.size}` : `${shownCount} of ${runs.size}`} run${runs.size === 1 ? '' : 's'}${selected.size ? ` · ${selected.size} selected` : ''}`;
  if (filter.error) {
    filterError.hidden = false;
    filterError.replaceChildren(
      h('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }),
      h('span', { text: ` ${filter.error.message} (at ${filter.error.position + 1}): ` }),
      h('code', { text: caretLine(view.filter, filter.error.position) }),
    );
  } else {
    filterError.hidden = true;
    filterError.replaceChildren();
  }
  filterBox.toggleAttribute('invalid', filter.error !== null);
  const options = ['', 'sweep', ...all.filter((c) => c.kind === 'param').map((c) => c.id)];
  const signature = options.join('\n');
  if (groupSelect.dataset.options !== signature) {
    groupSelect.dataset.options = signature;
    groupSelect.replaceChildren(...options.map((o) => el('vscode-option', { value: o }, o === '' ? 'No grouping' : o === 'sweep' ? 'Sweep' : `param ${o.slice(6)}`)));
  }
  if (groupSelect.value !== (view.groupBy ?? '')) groupSelect.value = view.groupBy ?? '';
  if (hideConstant.checked !== view.hideConstant) hideConstant.checked = view.hideConstant;
  if (filterBox.value !== view.filter && document.activeElement !== filterBox) filterBox.value = view.filter;
  const chosen = [...selected].map((id) => runs.get(id)!).filter(Boolean);
  const enabled: Record<TableAction, boolean> = {
    compare: chosen.length >= 2,
    diff: chosen.length === 2,
    stop: chosen.some((r) => r.status === 'running' || r.status === 'queued'),
    rerun: chosen.length >= 1,
    delete: chosen.length >= 1,
    registerModel: chosen.length === 1 && chosen[0]!.model !== null,
    copyIds: chosen.length >= 1,
  };
  for (const [action, b] of actionButtons) b.disabled = !enabled[action];
}

function selectedInOrder(): number[] {
  return [...selected].sort((a, b) => (lineOfRun.get(a) ?? 0) - (lineOfRun.get(b) ?? 0));
}

function sortBy(column: string, add: boolean): void {
  changeView((v) => {
    const existing = v.sort.find((k) => k.column === column);
    if (add) {
      const sort = existing ? v.sort.map((k) => (k.column === column ? { ...k, descending: !k.descending } : k)) : [...v.sort, { column, descending: false }];
      return { ...v, sort };
    }
    // A plain click: this column alone, ascending first, then descending, then back to newest first.
    if (!existing || v.sort.length > 1) return { ...v, sort: [{ column, descending: false }] };
    return { ...v, sort: existing.descending ? [] : [{ column, descending: true }] };
  });
}

function runAt(index: number): number | undefined {
  const line = lines[index];
  return line?.kind === 'run' ? line.run.id : undefined;
}

function clickLine(index: number, e: MouseEvent): void {
  const line = lines[index];
  if (!line) return;
  if (line.kind === 'group') {
    // A group's header selects its runs.
    const ids: number[] = [];
    for (let i = index + 1; i < lines.length && lines[i]!.kind === 'run'; i++) ids.push(runAt(i)!);
    selected = e.ctrlKey || e.metaKey ? new Set([...selected, ...ids]) : new Set(ids);
    redrawSelection();
    return;
  }
  const id = line.run.id;
  if (e.shiftKey && anchor !== null) selectRange(anchor, id, e.ctrlKey || e.metaKey);
  else if (e.ctrlKey || e.metaKey) {
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    anchor = id;
  } else {
    selected = new Set([id]);
    anchor = id;
  }
  focused = id;
  grid.viewport.focus({ preventScroll: true });
  redrawSelection();
}

function selectRange(from: number, to: number, keep: boolean): void {
  const a = lineOfRun.get(from) ?? 0;
  const b = lineOfRun.get(to) ?? 0;
  const next = keep ? new Set(selected) : new Set<number>();
  for (let i = Math.min(a, b); i <= Math.max(a, b); i++) {
    const id = runAt(i);
    if (id !== undefined) next.add(id);
  }
  selected = next;
}

/** The selection changed: the rows' marks and the buttons, without recomputing filter or sort. */
function redrawSelection(): void {
  if (lastGrid) lastGrid = { ...lastGrid, selected, focused };
  grid.mark(selected, focused);
  showControls();
}

function onKey(e: KeyboardEvent): void {
  const runLines = lines.length;
  if (runLines === 0) return;
  const current = focused !== null ? lineOfRun.get(focused) : undefined;
  const step = (delta: number): number | undefined => {
    let i = current === undefined ? (delta > 0 ? -1 : lines.length) : current;
    const target = Math.max(0, Math.min(lines.length - 1, i + delta));
    // Skip group headers, towards the direction of travel.
    i = target;
    while (i >= 0 && i < lines.length && lines[i]!.kind !== 'run') i += delta > 0 ? 1 : -1;
    if (i < 0 || i >= lines.length) {
      i = target;
      while (i >= 0 && i < lines.length && lines[i]!.kind !== 'run') i += delta > 0 ? -1 : 1;
    }
    return runAt(i);
  };
  let target: number | undefined;
  switch (e.key) {
    case 'ArrowDown':
      target = step(1);
      break;
    case 'ArrowUp':
      target = step(-1);
      break;
    case 'PageDown':
      target = step(grid.pageRows);
      break;
    case 'PageUp':
      target = step(-grid.pageRows);
      break;
    case 'Home':
      target = step(-lines.length);
      break;
    case 'End':
      target = step(lines.length);
      break;
    case ' ':
      e.preventDefault();
      if (focused !== null) {
        if (selected.has(focused)) selected.delete(focused);
        else selected.add(focused);
        anchor = focused;
        redrawSelection();
      }
      return;
    case 'Enter':
      e.preventDefault();
      if (focused !== null) post({ type: 'open', runId: focused });
      return;
    case 'Escape':
      selected = new Set();
      redrawSelection();
      return;
    case 'a':
    case 'A':
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        selected = new Set(lineOfRun.keys());
        redrawSelection();
      }
      return;
    default:
      return;
  }
  e.preventDefault();
  if (target === undefined) return;
  if (e.shiftKey) selectRange(anchor ?? focused ?? target, target, false);
  else {
    selected = new Set([target]);
    anchor = target;
  }
  if (anchor === null) anchor = target;
  focused = target;
  grid.reveal(lineOfRun.get(target)!);
  redrawSelection();
}

function receive(message: HostMessage): void {
  switch (message.type) {
    case 'runs':
      clockOffset = message.now - Date.now();
      runs.clear();
      for (const run of message.runs) runs.set(run.id, run);
      directions = message.directions;
      if (!received) {
        view = { ...DEFAULT_VIEW, ...(message.view ?? channel.savedView() ?? {}) };
        filter = compileFilter(view.filter, now());
        received = true;
      }
      recompute();
      return;
    case 'update':
      clockOffset = message.now - Date.now();
      for (const id of message.deleted) runs.delete(id);
      for (const run of message.runs) runs.set(run.id, run);
      directions = { ...directions, ...message.directions };
      recompute();
      return;
    case 'error':
      app.setAttribute('aria-busy', 'false');
      app.replaceChildren(h('div', { class: 'page-error', role: 'alert' }, icon('error'), h('span', { text: ` ${message.message}` })));
      return;
    default: {
      const never: never = message;
      post({ type: 'error', message: `unknown host message ${JSON.stringify(never)}` });
    }
  }
}

function withKey<T>(record: Readonly<Record<string, T>>, key: string, value: T): Record<string, T> {
  const out = { ...record };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

// Running runs' durations tick without a message from the host.
setInterval(() => {
  tickDurations(grid.viewport, runs, cellContext());
}, TICK_MS);

window.addEventListener('message', (e: MessageEvent<HostMessage>) => receive(e.data));
reportPageErrors(post);
post({ type: 'ready' });
