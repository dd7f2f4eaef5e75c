/**
 * The Lineage panel's messages, imported by the host (src/webviews/lineage) and the webview
 * (webview/lineage). Each direction is one discriminated union: switch on `type` with a `never`
 * default so a message nobody handles fails to compile.
 *
 * Every string in here (paths, run and model names, errors) comes from users and training scripts:
 * the webview only ever sets it as text, never as markup.
 */

export type GraphNodeKind = 'dataset' | 'run' | 'model_version' | 'deployment';

export interface GraphField {
  label: string;
  /** What the node shows (may be shortened, e.g. a hash). */
  value: string;
  /** The whole value, when `value` is shortened (tooltip and screen readers). */
  full?: string;
}

export interface GraphNode {
  /** `kind:id`; a run known only from a model's registration snapshot is `run:snapshot:id`. */
  key: string;
  kind: GraphNodeKind;
  id: number;
  /** Layer, left to right: sources (data) first. */
  column: number;
  title: string;
  /** A status word (running, finished…), or null. */
  status: string | null;
  tone: 'ok' | 'live' | 'failed' | 'ended' | 'none';
  fields: GraphField[];
  /** The node the panel was opened on. */
  root: boolean;
  /** Deleted since (or known only from a snapshot). */
  missing: boolean;
  /** Enter (or a click) does something: reveal the run, open the file, select the model or deployment. */
  openable: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  relation: string;
}

export interface LineageGraph {
  /** Panel title, e.g. "Lineage of deployment 4". */
  title: string;
  root: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** A line or two under the title: what the chain is missing, e.g. "registered from a file: no lineage". */
  notes: string[];
}

/** What the webview drew, posted after each render: integration tests wait for it. */
export interface RenderedReport {
  root: string;
  nodes: { key: string; kind: GraphNodeKind; column: number; text: string; details: string[] }[];
  edges: number;
  /** Milliseconds the render took in the webview. */
  ms: number;
}

/** What the webview keeps in `setState`, so VS Code can restore the panel after a reload. */
export interface LineageViewState {
  root: string;
}

// ── host → webview ──────────────────────────────────────────────────────────
export type HostMessage = { type: 'graph'; graph: LineageGraph } | { type: 'error'; message: string };

// ── webview → host ──────────────────────────────────────────────────────────
export type WebviewMessage =
  /** First message, after the page's script ran: the host sends nothing before it. */
  | { type: 'ready' }
  /** Enter or a click on an openable node. */
  | { type: 'open'; key: string }
  | { type: 'rendered'; report: RenderedReport }
  | { type: 'error'; message: string };

/** `kind:id` of a node, the form `key` takes. */
export const nodeKey = (kind: GraphNodeKind, id: number): string => `${kind}:${id}`;
