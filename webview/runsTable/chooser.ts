/**
 * The column chooser: every column with a search box; show or hide, pin, move up or down, and for
 * a metric which value it shows (last, min, max, best by its direction). Changes go straight to
 * the page's view through `change`; the list is rebuilt from the view each time.
 */
import { AGGREGATES, type Aggregate, type TableView } from '../../src/shared/runsTableProtocol.ts';
import { h, icon } from '../compare/dom.ts';
import { aggregateOf, type Column } from './model.ts';

export interface ChooserHost {
  view(): TableView;
  /** Every column, in the view's order. */
  columns(): Column[];
  change(update: (view: TableView) => TableView): void;
}

export class ColumnChooser {
  readonly element: HTMLDivElement;
  private readonly search: HTMLInputElement;
  private readonly list: HTMLDivElement;
  private readonly host: ChooserHost;

  constructor(host: ChooserHost) {
    this.host = host;
    this.search = h('input', { type: 'search', class: 'chooser-search', placeholder: 'Search columns', 'aria-label': 'Search columns' });
    this.search.addEventListener('input', () => this.render());
    this.list = h('div', { class: 'chooser-list', role: 'list' });
    this.element = h('div', { class: 'chooser', role: 'dialog', 'aria-label': 'Columns', hidden: true }, this.search, this.list);
    // On the document: a choice redraws the list, and the focus may leave with the old control.
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.open) this.toggle(false);
    });
  }

  get open(): boolean {
    return !this.element.hidden;
  }

  toggle(open = !this.open): void {
    this.element.hidden = !open;
    if (open) {
      this.render();
      this.search.focus();
    }
  }

  render(): void {
    if (!this.open) return;
    const view = this.host.view();
    const query = this.search.value.trim().toLowerCase();
    const columns = this.host.columns();
    const ids = columns.map((c) => c.id);
    const hidden = new Set(view.hidden);
    const pinned = new Set(view.pinned);
    const rows = columns
      .filter((c) => !query || c.label.toLowerCase().includes(query) || c.kind.includes(query))
      .map((c) => {
        const shown = h('input', { type: 'checkbox', 'aria-label': `Show ${c.label}` });
        shown.checked = !hidden.has(c.id);
        shown.addEventListener('change', () => this.host.change((v) => ({ ...v, hidden: shown.checked ? v.hidden.filter((id) => id !== c.id) : [...v.hidden, c.id] })));
        const pin = button(pinned.has(c.id) ? 'pinned' : 'pin', pinned.has(c.id) ? `Unpin ${c.label}` : `Pin ${c.label}`, () =>
          this.host.change((v) => ({ ...v, pinned: v.pinned.includes(c.id) ? v.pinned.filter((id) => id !== c.id) : [...v.pinned, c.id] })),
        );
        pin.classList.toggle('on', pinned.has(c.id));
        const move = (delta: number) => () => this.host.change((v) => ({ ...v, order: moved(ids, c.id, delta) }));
        const aggregate = c.kind === 'metric' ? aggregateSelect(c, view, this.host) : null;
        const item = h(
          'div',
          { class: 'chooser-item', role: 'listitem' },
          h('label', {}, shown, h('span', { class: `kind ${c.kind}`, text: c.kind === 'fixed' ? '' : c.kind === 'param' ? 'P' : 'M' }), h('span', { class: 'name', text: c.label })),
          aggregate,
          pin,
          button('arrow-up', `Move ${c.label} left`, move(-1)),
          button('arrow-down', `Move ${c.label} right`, move(1)),
        );
        item.dataset.column = c.id;
        return item;
      });
    this.list.replaceChildren(...(rows.length ? rows : [h('div', { class: 'chooser-empty', text: 'No column matches.' })]));
  }
}

function aggregateSelect(c: Column, view: TableView, host: ChooserHost): HTMLSelectElement {
  const select = h('select', { class: 'aggregate', 'aria-label': `Value of ${c.label}` }, ...AGGREGATES.map((a) => h('option', { value: a, text: a })));
  select.value = aggregateOf(view, c.key);
  select.addEventListener('change', () =>
    host.change((v) => {
      const aggregates = { ...v.aggregates };
      Object.defineProperty(aggregates, c.key, { value: select.value as Aggregate, enumerable: true, writable: true, configurable: true });
      return { ...v, aggregates };
    }),
  );
  return select;
}

function button(glyph: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = h('button', { class: 'icon-button', title: label, 'aria-label': label }, icon(glyph));
  b.addEventListener('click', onClick);
  return b;
}

/** The order with `id` moved `delta` places (the whole current order is written, so later columns keep theirs). */
export function moved(ids: readonly string[], id: string, delta: number): string[] {
  const order = [...ids];
  const from = order.indexOf(id);
  const to = Math.max(0, Math.min(order.length - 1, from + delta));
  if (from < 0 || from === to) return order;
  order.splice(from, 1);
  order.splice(to, 0, id);
  return order;
}
