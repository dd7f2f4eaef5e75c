// No `vscode` import: the graph is plain data built from the core's lineage, tested on plain Node.
import { basename, isAbsolute, relative, sep } from 'node:path';
import { formatBytes } from '../../../core/format.ts';
import { RETRAIN_RELATION } from '../../../core/monitor/retrain.ts';
import type { Lineage, LineageNode } from '../../../core/registry/lineage.ts';
import type { LineageEdge } from '../../../core/store/types.ts';
import { nodeKey, type GraphEdge, type GraphField, type GraphNode, type GraphNodeKind, type LineageGraph } from '../../../shared/lineageProtocol.ts';

/** Beyond this many nodes the graph is cut (a dataset read by thousands of runs); the notes say so. */
export const MAX_NODES = 150;

const KIND_RANK: Record<GraphNodeKind, number> = { dataset: 0, run: 1, model_version: 2, deployment: 3 };
const LABEL: Record<GraphNodeKind, string> = { dataset: 'dataset', run: 'run', model_version: 'model version', deployment: 'deployment' };

/**
 * The drawable graph of a lineage: datasets → runs → model versions → deployments, each node with
 * the facts that prove where it came from (fingerprints, commit, sha256), laid out in columns by
 * longest path from the sources, so a re-run sits right of the run it repeated.
 */
export function buildGraph(l: Lineage, workspace: string): LineageGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const rootKey = nodeKey(l.root.kind, l.root.id);
  const addEdge = (from: string, to: string, relation: string) => edges.set(`${from}|${to}|${relation}`, { from, to, relation });

  for (const n of l.nodes) nodes.set(nodeKey(n.kind, n.id), toNode(n, workspace, rootKey));
  for (const e of [...l.upstream, ...l.downstream] as LineageEdge[]) addEdge(nodeKey(e.srcKind, e.srcId), nodeKey(e.dstKind, e.dstId), e.relation);

  // A model whose run was deleted still knows its run, data and commit from its registration snapshot.
  for (const n of l.nodes) {
    if (n.kind !== 'model_version' || 'missing' in n || n.noLineage || !n.snapshot.run) continue;
    const key = nodeKey(n.kind, n.id);
    if ([...edges.values()].some((e) => e.to === key && e.relation === 'produced')) continue;
    const run = n.snapshot.run;
    const runKey = `run:snapshot:${run.id}`;
    nodes.set(runKey, {
      key: runKey,
      kind: 'run',
      id: run.id,
      column: 0,
      title: `run ${run.id} · ${run.name}`,
      status: 'deleted',
      tone: 'ended',
      fields: [field('experiment', run.experiment), commitField(n.snapshot.commit, null, false), field('from', 'the registration snapshot')],
      root: false,
      missing: true,
      openable: false,
    });
    addEdge(runKey, key, 'produced');
    (n.snapshot.inputs ?? []).forEach((input, i) => {
      const dataKey = `dataset:snapshot:${n.id}:${i}`;
      nodes.set(dataKey, { ...datasetNode(0, input, workspace, rootKey), key: dataKey });
      addEdge(dataKey, runKey, 'input');
    });
  }

  const notes = [...notesOf(l), ...retrainLoops(nodes, edges)];
  let kept = [...nodes.values()];
  if (kept.length > MAX_NODES) {
    // Keep the root and what is nearest to it in kind; say what was left out.
    kept = kept.sort((a, b) => Number(b.root) - Number(a.root) || Math.abs(KIND_RANK[a.kind] - KIND_RANK[nodes.get(rootKey)!.kind]) - Math.abs(KIND_RANK[b.kind] - KIND_RANK[nodes.get(rootKey)!.kind])).slice(0, MAX_NODES);
    notes.push(`Showing ${MAX_NODES} of ${nodes.size} nodes.`);
  }
  const keptKeys = new Set(kept.map((n) => n.key));
  const keptEdges = [...edges.values()].filter((e) => keptKeys.has(e.from) && keptKeys.has(e.to));
  layer(kept, keptEdges);
  kept.sort((a, b) => a.column - b.column || KIND_RANK[a.kind] - KIND_RANK[b.kind] || a.id - b.id || a.key.localeCompare(b.key));
  const root = nodes.get(rootKey)!;
  return { title: `Lineage of ${LABEL[root.kind]} ${root.kind === 'model_version' ? root.title : root.id}`, root: rootKey, nodes: kept, edges: keptEdges, notes };
}

/** Column = longest path from a source (a node without incoming edges); cycles are cut. */
function layer(nodes: GraphNode[], edges: GraphEdge[]): void {
  const incoming = new Map<string, string[]>();
  for (const e of edges) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e.from]);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (key: string): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) return 0;
    visiting.add(key);
    const d = Math.max(-1, ...(incoming.get(key) ?? []).map(depthOf)) + 1;
    visiting.delete(key);
    depth.set(key, d);
    return d;
  };
  for (const n of nodes) n.column = depthOf(n.key);
  // A source sits just left of its first consumer: a retrain's production data beside the run it
  // feeds, not at the far left with the original training data.
  for (const n of nodes) {
    if (incoming.has(n.key)) continue;
    const consumers = edges.filter((e) => e.from === n.key).map((e) => depth.get(e.to) ?? 0);
    if (consumers.length) n.column = Math.max(n.column, Math.min(...consumers) - 1);
  }
}

/**
 * The monitoring loop in words, one note per retrain: the deployment whose served rows trained a
 * run, the versions that run produced and where they were deployed. The retrain run says so too.
 */
function retrainLoops(nodes: Map<string, GraphNode>, edges: Map<string, GraphEdge>): string[] {
  const all = [...edges.values()];
  const title = (key: string) => nodes.get(key)?.title ?? key;
  return all
    .filter((e) => e.relation === RETRAIN_RELATION)
    .map((e) => {
      const source = nodes.get(e.from);
      nodes.get(e.to)?.fields.unshift(field('retrains', `${source ? `deployment ${source.id}` : e.from} on its served rows`));
      const versions = all.filter((v) => v.from === e.to && v.relation === 'produced').map((v) => v.to);
      const steps = versions.map((v) => [title(v), ...all.filter((d) => d.from === v && d.relation === 'deployed').map((d) => `deployment ${nodes.get(d.to)?.id ?? d.to}`)].join(' → '));
      const after = steps.length ? steps.join('; ') : 'no model registered from it yet';
      return `Retrained from production: deployment ${source?.id ?? e.from}'s served rows → ${title(e.to)} → ${after}.`;
    });
}

function notesOf(l: Lineage): string[] {
  const notes: string[] = [];
  const root = l.nodes.find((n) => n.kind === l.root.kind && n.id === l.root.id);
  const mv = l.nodes.find((n): n is Extract<LineageNode, { kind: 'model_version'; name: string }> => n.kind === 'model_version' && !('missing' in n) && n.id === l.chain.modelVersion?.id);
  if (mv?.noLineage) notes.push(`${mv.name}@${mv.version} was registered from a file, not from a run: no data, code or metrics were recorded with it.`);
  if (l.chain.run?.deleted) notes.push(`Run ${l.chain.run.id} (${l.chain.run.name}) was deleted; its data and commit come from the model's registration snapshot.`);
  if (l.chain.run && !l.chain.commit) notes.push('No commit was recorded for the run (not a git repository).');
  if (l.chain.run && l.chain.inputs.length === 0) notes.push('The run recorded no input files.');
  if (root && root.kind === 'deployment' && !('missing' in root) && !l.chain.modelVersion) notes.push('The deployed model version was deleted.');
  return notes;
}

function toNode(n: LineageNode, workspace: string, rootKey: string): GraphNode {
  const key = nodeKey(n.kind, n.id);
  const base = { key, kind: n.kind, id: n.id, column: 0, root: key === rootKey };
  if ('missing' in n) {
    return { ...base, title: `${LABEL[n.kind]} ${n.id}`, status: 'deleted', tone: 'ended', fields: [], missing: true, openable: false };
  }
  switch (n.kind) {
    case 'dataset':
      return datasetNode(n.id, n, workspace, rootKey);
    case 'run':
      return {
        ...base,
        title: `run ${n.id} · ${n.name}`,
        status: n.status,
        tone: n.status === 'finished' ? 'ok' : n.status === 'running' || n.status === 'queued' ? 'live' : n.status === 'failed' || n.status === 'crashed' ? 'failed' : 'ended',
        fields: [field('experiment', n.experiment), ...(n.profile ? [field('profile', n.profile)] : []), commitField(n.commit, n.branch, n.dirty)],
        missing: false,
        openable: true,
      };
    case 'model_version':
      return {
        ...base,
        title: `${n.name}@${n.version}`,
        status: n.aliases.length ? n.aliases.join(', ') : null,
        tone: 'ok',
        fields: [
          hashField('sha256', n.sha256),
          ...(n.noLineage ? [field('lineage', 'none: registered from a file')] : []),
          ...(n.forced?.length ? [field('forced past', n.forced.join('; '))] : []),
        ],
        missing: false,
        openable: true,
      };
    case 'deployment':
      return {
        ...base,
        title: `deployment ${n.id} · ${n.target}`,
        status: n.status,
        tone: n.status === 'running' || n.status === 'deployed' || n.status === 'starting' || n.status === 'stopping' ? 'live' : n.status === 'failed' || n.status === 'stopped unexpectedly' ? 'failed' : n.status === 'stopped' ? 'ended' : 'none',
        fields: [...(n.url ? [field('url', n.url)] : []), ...(n.replacesId ? [field('replaces', `deployment ${n.replacesId}`)] : []), ...(n.forced?.length ? [field('forced past', n.forced.join('; '))] : [])],
        missing: false,
        openable: true,
      };
    default: {
      const never: never = n;
      throw new Error(`unknown lineage node ${JSON.stringify(never)}`);
    }
  }
}

function datasetNode(id: number, d: { path: string; fingerprint: string; size: number }, workspace: string, rootKey: string): GraphNode {
  const key = nodeKey('dataset', id);
  return {
    key,
    kind: 'dataset',
    id,
    column: 0,
    title: basename(d.path),
    status: null,
    tone: 'none',
    fields: [field('path', shownPath(workspace, d.path)), hashField('fingerprint', d.fingerprint), field('size', formatBytes(d.size))],
    root: key === rootKey,
    missing: false,
    openable: true,
  };
}

const field = (label: string, value: string): GraphField => ({ label, value });

function hashField(label: string, hash: string): GraphField {
  return hash.length > 16 ? { label, value: `${hash.slice(0, 12)}…`, full: hash } : field(label, hash);
}

function commitField(commit: string | null, branch: string | null, dirty: boolean): GraphField {
  if (!commit) return field('commit', 'not recorded');
  const suffix = `${branch ? ` (${branch})` : ''}${dirty ? ' + uncommitted changes' : ''}`;
  return { label: 'commit', value: `${commit.slice(0, 12)}${suffix}`, full: `${commit}${suffix}` };
}

/** A path inside the workspace relative to it. */
export function shownPath(workspace: string, path: string): string {
  if (!workspace || !isAbsolute(path)) return path;
  const rel = relative(workspace, path);
  return rel && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel : path;
}
