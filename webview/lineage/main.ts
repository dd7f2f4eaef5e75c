// The Lineage panel: dataset(s) → run → model version → deployment, left to right, in plain DOM
// with an SVG layer for the edges. Every node is reachable with Tab and the arrow keys; Enter on
// one asks the host to reveal it. All text from the host is set as text, never as markup.
import type { GraphNode, GraphNodeKind, HostMessage, LineageGraph, LineageViewState, RenderedReport, WebviewMessage } from '../../src/shared/lineageProtocol.ts';
import { clear, h, svg } from './dom.ts';
import './lineage.css';
import { reportPageErrors, showPageError } from '../shared/pageErrors.ts';
import { hostChannel } from '../shared/vscodeApi.ts';

const KIND_LABEL: Record<GraphNodeKind, string> = { dataset: 'Dataset', run: 'Run', model_version: 'Model version', deployment: 'Deployment' };
const OPEN_HINT: Record<GraphNodeKind, string> = {
  dataset: 'Enter opens the file',
  run: 'Enter reveals the run in the Experiments view',
  model_version: 'Enter selects it in the Models view',
  deployment: 'Enter selects it in the Deployments view',
};

const { post, saveView } = hostChannel<WebviewMessage, LineageViewState>();
const app = document.getElementById('app')!;
let graph: LineageGraph | undefined;
let edgeLayer: SVGSVGElement | undefined;
let canvas: HTMLElement | undefined;
const elements = new Map<string, HTMLElement>();

function render(g: LineageGraph): void {
  const started = performance.now();
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
  const newRoot = graph?.root !== g.root;
  graph = g;
  saveView({ root: g.root });
  elements.clear();
  clear(app);
  app.setAttribute('aria-busy', 'false');

  const header = h('header', {}, h('h1', { text: g.title }));
  for (const note of g.notes) header.appendChild(h('p', { class: 'note', text: note }));
  app.appendChild(header);

  const columns = [...new Set(g.nodes.map((n) => n.column))].sort((a, b) => a - b);
  const row = h('div', { class: 'columns' });
  for (const column of columns) {
    const col = h('div', { class: 'column', role: 'list' });
    for (const node of g.nodes.filter((n) => n.column === column)) col.appendChild(nodeElement(node));
    row.appendChild(col);
  }
  edgeLayer = svg('svg', { class: 'edges', 'aria-hidden': 'true' });
  canvas = h('div', { class: 'canvas', role: 'group', 'aria-label': 'Lineage graph, sources on the left' }, row);
  canvas.prepend(edgeLayer);
  app.appendChild(canvas);
  if (g.nodes.length === 0) app.appendChild(h('p', { class: 'note', text: 'Nothing recorded.' }));

  drawEdges();
  // A live refresh keeps the focused node; focus moves only on a new root, or if it was here already.
  if (newRoot || document.hasFocus()) ((focused && elements.get(focused)) || elements.get(g.root))?.focus();

  const report: RenderedReport = {
    root: g.root,
    nodes: [...elements.entries()].map(([key, e]) => ({
      key,
      kind: e.dataset.kind as GraphNodeKind,
      column: Number(e.dataset.column),
      text: e.textContent ?? '',
      details: [...e.querySelectorAll('dd')].map((dd) => dd.getAttribute('title') || dd.textContent || ''),
    })),
    edges: edgeLayer.querySelectorAll('path.edge').length,
    ms: Math.round(performance.now() - started),
  };
  post({ type: 'rendered', report });
}

function nodeElement(node: GraphNode): HTMLElement {
  const label = `${KIND_LABEL[node.kind]} ${node.title}${node.status ? `, ${node.status}` : ''}${node.root ? ', the node this view is about' : ''}`;
  const e = h('div', {
    class: `node kind-${node.kind} tone-${node.tone}${node.root ? ' root' : ''}${node.missing ? ' missing' : ''}${node.openable ? ' openable' : ''}`,
    role: node.openable ? 'button' : 'listitem',
    tabindex: 0,
    'data-key': node.key,
    'data-kind': node.kind,
    'data-column': node.column,
    'aria-label': label,
    'aria-current': node.root ? 'true' : null,
    title: node.openable ? OPEN_HINT[node.kind] : null,
  });
  const head = h('div', { class: 'head' }, h('span', { class: 'kind', text: KIND_LABEL[node.kind] }));
  if (node.status) head.appendChild(h('span', { class: 'status', text: node.status }));
  e.appendChild(head);
  e.appendChild(h('div', { class: 'title', text: node.title }));
  if (node.fields.length) {
    const list = h('dl');
    for (const f of node.fields) list.append(h('dt', { text: f.label }), h('dd', { text: f.value, title: f.full ?? null }));
    e.appendChild(list);
  }
  e.addEventListener('keydown', (event) => onKey(event, node));
  e.addEventListener('dblclick', () => open(node));
  elements.set(node.key, e);
  return e;
}

function open(node: GraphNode): void {
  if (node.openable) post({ type: 'open', key: node.key });
}

/** Enter/Space opens; arrows move along the edges (left/right) and within a column (up/down). */
function onKey(event: KeyboardEvent, node: GraphNode): void {
  if (!graph) return;
  let target: string | undefined;
  switch (event.key) {
    case 'Enter':
    case ' ':
      event.preventDefault();
      open(node);
      return;
    case 'ArrowUp':
    case 'ArrowDown': {
      const column = graph.nodes.filter((n) => n.column === node.column);
      const i = column.findIndex((n) => n.key === node.key) + (event.key === 'ArrowUp' ? -1 : 1);
      target = column[i]?.key;
      break;
    }
    case 'ArrowLeft':
      target = graph.edges.find((e) => e.to === node.key)?.from ?? nearest(node.column - 1, node);
      break;
    case 'ArrowRight':
      target = graph.edges.find((e) => e.from === node.key)?.to ?? nearest(node.column + 1, node);
      break;
    case 'Home':
      target = graph.root;
      break;
    default:
      return;
  }
  event.preventDefault();
  if (target) elements.get(target)?.focus();
}

function nearest(column: number, from: GraphNode): string | undefined {
  const here = elements.get(from.key)?.getBoundingClientRect();
  const candidates = graph!.nodes.filter((n) => n.column === column);
  let best: string | undefined;
  let distance = Infinity;
  for (const n of candidates) {
    const r = elements.get(n.key)?.getBoundingClientRect();
    const d = here && r ? Math.abs(r.top + r.height / 2 - (here.top + here.height / 2)) : 0;
    if (d < distance) [best, distance] = [n.key, d];
  }
  return best;
}

/** Curves from each node's right edge to the next one's left edge, measured after layout. */
function drawEdges(): void {
  if (!graph || !edgeLayer || !canvas) return;
  clear(edgeLayer);
  const box = canvas.getBoundingClientRect();
  edgeLayer.setAttribute('width', String(canvas.scrollWidth));
  edgeLayer.setAttribute('height', String(canvas.scrollHeight));
  edgeLayer.appendChild(
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }))),
  );
  for (const edge of graph.edges) {
    const from = elements.get(edge.from)?.getBoundingClientRect();
    const to = elements.get(edge.to)?.getBoundingClientRect();
    if (!from || !to) continue;
    const d = edgePath(from, to, box, canvas);
    const path = svg('path', { d, class: `edge relation-${edge.relation.replace(/[^a-z]/gi, '')}`, 'marker-end': 'url(#arrow)' });
    path.appendChild(svg('title', { text: edge.relation }));
    edgeLayer.appendChild(path);
  }
}

/**
 * Left to right when the columns sit side by side; top to bottom when a narrow panel stacks them;
 * a loop on the right for two nodes of one column (a re-run beside the run it repeated).
 */
function edgePath(from: DOMRect, to: DOMRect, box: DOMRect, scroller: HTMLElement): string {
  const x = (v: number) => v - box.left + scroller.scrollLeft;
  const y = (v: number) => v - box.top + scroller.scrollTop;
  if (to.left >= from.right - 1) {
    const [x1, y1, x2, y2] = [x(from.right), y(from.top + from.height / 2), x(to.left), y(to.top + to.height / 2)];
    const bend = Math.max(24, (x2 - x1) / 2);
    return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
  }
  if (to.top >= from.bottom - 1) {
    const [x1, y1, x2, y2] = [x(from.left + from.width / 2), y(from.bottom), x(to.left + to.width / 2), y(to.top)];
    const bend = Math.max(12, (y2 - y1) / 2);
    return `M ${x1} ${y1} C ${x1} ${y1 + bend}, ${x2} ${y2 - bend}, ${x2} ${y2}`;
  }
  const [x1, y1, x2, y2] = [x(from.right), y(from.top + from.height / 2), x(to.right), y(to.top + to.height / 2)];
  return `M ${x1} ${y1} C ${x1 + 48} ${y1}, ${x2 + 48} ${y2}, ${x2} ${y2}`;
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'graph':
      app.querySelector('.error')?.remove();
      render(message.graph);
      return;
    case 'error':
      showPageError(app, message.message);
      return;
    default: {
      const never: never = message;
      post({ type: 'error', message: `Unknown message ${JSON.stringify(never)}` });
    }
  }
});

let pending = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(drawEdges);
}).observe(app);
reportPageErrors(post);
post({ type: 'ready' });
