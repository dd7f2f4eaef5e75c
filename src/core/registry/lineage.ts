import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { LineageEdge, LineageKind } from '../store/types.ts';
import { Registry, type ModelSnapshot } from './registry.ts';

export interface LineageRef {
  kind: LineageKind;
  id: number;
}

export type LineageNode =
  | { kind: 'dataset'; id: number; path: string; fingerprint: string; size: number }
  | { kind: 'run'; id: number; name: string; experiment: string; status: string; profile: string | null; commit: string | null; branch: string | null; dirty: boolean }
  | {
      kind: 'model_version';
      id: number;
      name: string;
      version: number;
      sha256: string;
      noLineage: boolean;
      forced: string[] | null;
      aliases: string[];
      /** What the registration recorded: the way back to data and code when the run has since been deleted. */
      snapshot: Pick<ModelSnapshot, 'run' | 'inputs' | 'note'> & { commit: string | null };
    }
  | { kind: 'deployment'; id: number; target: string; status: string; url: string | null; forced: string[] | null; replacesId: number | null }
  | { kind: LineageKind; id: number; missing: true };

/** The one path back from a deployment or model version (or a run) to its data and code. */
export interface LineageChain {
  deployment: number | null;
  modelVersion: { id: number; name: string; version: number } | null;
  run: { id: number; name: string; deleted: boolean } | null;
  inputs: { path: string; fingerprint: string; size: number }[];
  commit: { commit: string | null; branch: string | null; dirty: boolean } | null;
}

export interface Lineage {
  root: LineageRef;
  chain: LineageChain;
  nodes: LineageNode[];
  /** Upstream edges (how the root came to be) and downstream ones (what was made from it). */
  upstream: LineageEdge[];
  downstream: LineageEdge[];
}

/**
 * `deployment:ID`, `run:ID`, `NAME@VERSION` (or `@ALIAS`), or a run id or name. A bare number is
 * a run, as everywhere else in the CLI.
 */
export function parseLineageRef(store: Store, text: string): LineageRef {
  const prefixed = /^(deployment|deploy|run|dataset):(\d+)$/.exec(text.trim());
  if (prefixed) {
    const kind = (prefixed[1] === 'deploy' ? 'deployment' : prefixed[1]) as LineageKind;
    return { kind, id: Number(prefixed[2]) };
  }
  if (text.includes('@')) return { kind: 'model_version', id: new Registry(store).resolve(text.trim()).id };
  return { kind: 'run', id: store.resolveRun(text).id };
}

/** Where a run, model version, deployment or dataset came from and what came of it. */
export function lineage(store: Store, root: LineageRef): Lineage {
  const rootNode = node(store, root.kind, root.id);
  if ('missing' in rootNode) throw new UserError(`No ${root.kind.replace('_', ' ')} ${root.id}`);
  const upstream = store.upstream(root.kind, root.id);
  const downstream = store.downstream(root.kind, root.id);
  const seen = new Map<string, LineageNode>([[`${root.kind}:${root.id}`, rootNode]]);
  for (const e of [...upstream, ...downstream]) {
    for (const [kind, id] of [[e.srcKind, e.srcId], [e.dstKind, e.dstId]] as const) {
      const key = `${kind}:${id}`;
      if (!seen.has(key)) seen.set(key, node(store, kind, id));
    }
  }
  const nodes = [...seen.values()];
  return { root, chain: chainOf(root, nodes, upstream), nodes, upstream, downstream };
}

function chainOf(root: LineageRef, nodes: LineageNode[], upstream: LineageEdge[]): LineageChain {
  const find = (kind: LineageKind, id: number | undefined) => (id === undefined ? undefined : nodes.find((n) => n.kind === kind && n.id === id && !('missing' in n)));
  const source = (kind: LineageKind, id: number | undefined, relation: string) =>
    id === undefined ? undefined : upstream.find((e) => e.dstKind === kind && e.dstId === id && e.relation === relation)?.srcId;
  const deployment = root.kind === 'deployment' ? root.id : undefined;
  const mvId = root.kind === 'model_version' ? root.id : source('deployment', deployment, 'deployed');
  const mv = find('model_version', mvId) as Extract<LineageNode, { kind: 'model_version'; name: string }> | undefined;
  const runId = root.kind === 'run' ? root.id : source('model_version', mvId, 'produced');
  const run = find('run', runId) as Extract<LineageNode, { kind: 'run'; name: string }> | undefined;
  const datasets = upstream
    .filter((e) => run && e.dstKind === 'run' && e.dstId === run.id && e.relation === 'input')
    .map((e) => find('dataset', e.srcId) as Extract<LineageNode, { kind: 'dataset'; path: string }> | undefined)
    .filter((d) => d !== undefined)
    .map(({ path, fingerprint, size }) => ({ path, fingerprint, size }));
  // A deleted run: the registration snapshot still knows its data and commit.
  const snap = !run && mv && !mv.noLineage ? mv.snapshot : undefined;
  return {
    deployment: deployment ?? null,
    modelVersion: mv ? { id: mv.id, name: mv.name, version: mv.version } : null,
    run: run ? { id: run.id, name: run.name, deleted: false } : snap?.run ? { id: snap.run.id, name: snap.run.name, deleted: true } : null,
    inputs: run ? datasets : (snap?.inputs ?? []),
    commit: run ? (run.commit ? { commit: run.commit, branch: run.branch, dirty: run.dirty } : null) : snap?.commit ? { commit: snap.commit, branch: null, dirty: false } : null,
  };
}

function node(store: Store, kind: LineageKind, id: number): LineageNode {
  switch (kind) {
    case 'dataset': {
      const d = store.provenance.dataset(id);
      return d ? { kind, id, path: d.path, fingerprint: d.fingerprint, size: d.size } : { kind, id, missing: true };
    }
    case 'run': {
      const run = store.run(id);
      if (!run) return { kind, id, missing: true };
      const code = store.codeState(id);
      return { kind, id, name: run.name, experiment: run.experiment, status: run.status, profile: run.profile, commit: code?.commit ?? null, branch: code?.branch ?? null, dirty: code?.dirty ?? false };
    }
    case 'model_version': {
      const mv = new Registry(store).byId(id);
      if (!mv) return { kind, id, missing: true };
      return {
        kind,
        id,
        name: mv.name,
        version: mv.version,
        sha256: mv.sha256,
        noLineage: mv.noLineage,
        forced: mv.forced,
        aliases: mv.aliases,
        snapshot: { run: mv.snapshot.run, inputs: mv.snapshot.inputs, note: mv.snapshot.note, commit: mv.snapshot.code?.commit ?? null },
      };
    }
    case 'deployment': {
      const d = store.deployments.get(id);
      return d ? { kind, id, target: d.target, status: d.status, url: d.url, forced: d.forced, replacesId: d.replacesId } : { kind, id, missing: true };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown lineage kind ${never}`);
    }
  }
}

/** One line per node, indented along the way up from the root; then what was made from it. */
export function formatLineage(l: Lineage): string {
  const byKey = new Map(l.nodes.map((n) => [`${n.kind}:${n.id}`, n]));
  const lines: string[] = [];
  const walkUp = (kind: LineageKind, id: number, depth: number, path: Set<string>) => {
    const key = `${kind}:${id}`;
    const n = byKey.get(key)!;
    lines.push(`${'  '.repeat(depth)}${depth ? '← ' : ''}${describe(n)}`);
    if (path.has(key)) return;
    const next = new Set(path).add(key);
    const parents = l.upstream.filter((e) => e.dstKind === kind && e.dstId === id);
    for (const e of parents) walkUp(e.srcKind, e.srcId, depth + 1, next);
    // A model whose run was deleted still knows its data and code from the registration snapshot.
    if (n.kind === 'model_version' && !('missing' in n) && !n.noLineage && parents.length === 0 && n.snapshot.run) {
      const pad = '  '.repeat(depth + 1);
      lines.push(`${pad}← run ${n.snapshot.run.id} ${n.snapshot.run.name} (deleted; from the registration snapshot)${n.snapshot.commit ? `  commit ${n.snapshot.commit}` : ''}`);
      for (const i of n.snapshot.inputs ?? []) lines.push(`${pad}  ← input ${i.path}  ${i.fingerprint}`);
    }
  };
  walkUp(l.root.kind, l.root.id, 0, new Set());
  if (l.downstream.length) {
    lines.push('', 'Made from it:');
    for (const e of l.downstream) lines.push(`  ${describe(byKey.get(`${e.srcKind}:${e.srcId}`)!)} → ${e.relation} → ${describe(byKey.get(`${e.dstKind}:${e.dstId}`)!)}`);
  }
  return lines.join('\n');
}

function describe(n: LineageNode): string {
  if ('missing' in n) return `${n.kind.replace('_', ' ')} ${n.id} (deleted)`;
  switch (n.kind) {
    case 'dataset':
      return `input ${n.path}  ${n.fingerprint}  ${n.size} B`;
    case 'run':
      return `run ${n.id} ${n.name} [${n.status}]${n.commit ? `  commit ${n.commit}${n.branch ? ` (${n.branch})` : ''}${n.dirty ? ' + uncommitted changes' : ''}` : '  (no commit recorded)'}`;
    case 'model_version':
      return `model ${n.name}@${n.version}  sha256 ${n.sha256.slice(0, 12)}…${n.aliases.length ? `  [${n.aliases.join(', ')}]` : ''}${n.forced ? `  forced past: ${n.forced.join('; ')}` : ''}${n.noLineage ? `  (no lineage: ${n.snapshot.note ?? 'registered from a file'})` : ''}`;
    case 'deployment':
      return `deployment ${n.id} ${n.target} [${n.status}]${n.url ? `  ${n.url}` : ''}${n.replacesId ? `  (rolled back ${n.replacesId})` : ''}${n.forced ? `  forced past: ${n.forced.join('; ')}` : ''}`;
  }
}
