import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.ts';
import { parseGate } from '../../core/gates.ts';
import { lineage } from '../../core/registry/lineage.ts';
import { CHAMPION, type ModelSummary, type ModelVersion } from '../../core/registry/registry.ts';
import type { Store } from '../../core/store/store.ts';
import type { MetricSummary } from '../../core/store/types.ts';
import type { Container } from '../container.ts';
import { settings } from '../settings.ts';
import { displayPath, formatNumber, formatTime, SafeMarkdown } from './format.ts';
import { Disposable } from '../lifecycle.ts';

export const MODELS_VIEW = 'runboard.models';
/** The alias Compare with Champion compares against. */
/** Metrics shown beside a version. */
const KEY_METRICS = 2;
const INPUTS_IN_TOOLTIP = 5;

export type ModelsNode =
  | { kind: 'model'; model: ModelSummary }
  | {
      kind: 'version';
      version: ModelVersion;
      /** The version the model's `champion` alias points at, when it has one. */
      champion?: { version: number; runId: number | null };
    }
  | { kind: 'message'; text: string };

/**
 * Registered models → their versions (newest first), with aliases and key metrics. A version's
 * tooltip summarises its lineage (run, commit, data fingerprints, deployments), read on hover.
 *
 * contextValue: `model`, or `modelVersion` followed by `.run` (it has a source run) and
 * `.challenger` (the model has a champion, another version with a run, to compare with).
 */
export class ModelsTree extends Disposable implements vscode.TreeDataProvider<ModelsNode> {
  private readonly emitter = this._register(new vscode.EventEmitter<ModelsNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly container: Container;

  constructor(container: Container) {
    super();
    this.container = container;
    this._register(container.changes.onDidChange((change) => {
        if (change.everything || change.models.length > 0) this.refresh();
      }));
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(node?: ModelsNode): Promise<ModelsNode[]> {
    if (!this.container.hasDatabase()) return [];
    try {
      const registry = await this.container.registry();
      if (!node) return registry.models().map((model) => ({ kind: 'model', model }));
      if (node.kind === 'model') {
        const versions = registry.list(node.model.name);
        const championVersion = node.model.aliases[CHAMPION];
        const champion = versions.find((v) => v.version === championVersion);
        return versions.map((version) => ({ kind: 'version', version, champion: champion && { version: champion.version, runId: champion.runId } }));
      }
      return [];
    } catch (err) {
      this.container.log.error('Reading the Models view failed', err as Error);
      return [{ kind: 'message', text: `Cannot read models: ${(err as Error).message}` }];
    }
  }

  /** For reveal: a version's parent is its model. */
  async getParent(node: ModelsNode): Promise<ModelsNode | undefined> {
    if (node.kind !== 'version') return undefined;
    const registry = await this.container.registry();
    const model = registry.models().find((m) => m.name === node.version.name);
    return model && { kind: 'model', model };
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'model': {
        const { model } = node;
        const item = new vscode.TreeItem(model.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `model:${model.name}`;
        item.iconPath = new vscode.ThemeIcon('package');
        const aliases = Object.entries(model.aliases).map(([alias, version]) => `${alias}→v${version}`);
        item.description = [`${model.versions} version${model.versions === 1 ? '' : 's'}`, ...aliases].join(' · ');
        item.contextValue = 'model';
        return item;
      }
      case 'version': {
        const v = node.version;
        const item = new vscode.TreeItem(`v${v.version}`);
        item.id = `modelVersion:${v.id}`;
        item.iconPath = new vscode.ThemeIcon(v.aliases.includes(CHAMPION) ? 'star-full' : v.aliases.length ? 'tag' : 'circle');
        const metrics = keyMetrics(v).map(([key, s]) => `${key} ${formatNumber(s.last)}`);
        item.description = [v.aliases.join(', '), ...metrics, v.runId !== null ? `run ${v.runId}` : 'no lineage'].filter(Boolean).join(' · ');
        const challenger = node.champion && node.champion.version !== v.version && node.champion.runId !== null && v.runId !== null;
        item.contextValue = `modelVersion${v.runId !== null ? '.run' : ''}${challenger ? '.challenger' : ''}`;
        item.accessibilityInformation = { label: `${v.name} version ${v.version}${v.aliases.length ? `, ${v.aliases.join(', ')}` : ''}${metrics.length ? `, ${metrics.join(', ')}` : ''}` };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        return item;
      }
      default: {
        const never: never = node;
        return never;
      }
    }
  }

  /** The lineage summary is read on hover, not for every row. */
  async resolveTreeItem(item: vscode.TreeItem, node: ModelsNode): Promise<vscode.TreeItem> {
    if (node.kind !== 'version' || item.tooltip) return item;
    const store = this.container.openStore;
    if (!store) return item;
    try {
      item.tooltip = versionTooltip(store, node.version, this.container.workspace);
    } catch (err) {
      this.container.log.warn(`Tooltip of ${node.version.name}@${node.version.version}: ${(err as Error).message}`);
    }
    return item;
  }

}

/**
 * The metrics worth showing beside a version: the configured key metric, then those its
 * promotion gates test, then the rest alphabetically; at most two.
 */
export function keyMetrics(v: ModelVersion): [string, MetricSummary][] {
  const metrics = v.snapshot.metrics ?? {};
  const gated = (v.snapshot.gates ?? []).flatMap((g) => {
    try {
      return [parseGate(g.condition).metric];
    } catch {
      return [];
    }
  });
  const order = [settings.keyMetric(), ...gated, ...Object.keys(metrics).sort()];
  const keys = [...new Set(order)].filter((key) => key && metrics[key] !== undefined);
  return keys.slice(0, KEY_METRICS).map((key) => [key, metrics[key]!]);
}

function versionTooltip(store: Store, v: ModelVersion, workspace: string): vscode.MarkdownString {
  const md = new SafeMarkdown().raw('$(package) **').text(`${v.name}@${v.version}`).raw('**  \n');
  md.field('Registered', formatTime(v.createdAt)).field('File', displayPath(workspace, v.storedPath)).field('Size', formatBytes(v.size)).field('sha256', v.sha256);
  if (v.aliases.length) md.field('Aliases', v.aliases.join(', '));
  if (v.forced?.length) md.field('Registered despite failing gates', v.forced.join('; '));
  const metrics = Object.entries(v.snapshot.metrics ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length) md.field('Metrics', metrics.slice(0, 8).map(([k, s]) => `${k} ${formatNumber(s.last)}`).join(', ') + (metrics.length > 8 ? ', …' : ''));

  md.raw('\n**Lineage**  \n');
  if (v.noLineage) {
    md.text(v.snapshot.note ?? 'Registered from a file: no run, data or code recorded.').raw('  \n');
    return md.md;
  }
  const l = lineage(store, { kind: 'model_version', id: v.id });
  const { chain } = l;
  if (chain.run) md.field('Run', `${chain.run.id} · ${chain.run.name}${chain.run.deleted ? ' (deleted; from the registration snapshot)' : ''}`);
  md.field('Commit', chain.commit?.commit ? `${chain.commit.commit.slice(0, 12)}${chain.commit.branch ? ` on ${chain.commit.branch}` : ''}${chain.commit.dirty ? ' + uncommitted changes' : ''}` : 'not recorded');
  if (chain.inputs.length === 0) md.field('Data', 'no input recorded');
  for (const input of chain.inputs.slice(0, INPUTS_IN_TOOLTIP)) md.field('Data', `${displayPath(workspace, input.path)} · ${input.fingerprint.slice(0, 12)}…`);
  if (chain.inputs.length > INPUTS_IN_TOOLTIP) md.raw(`…and ${chain.inputs.length - INPUTS_IN_TOOLTIP} more inputs  \n`);
  const deployments = l.nodes.filter((n) => n.kind === 'deployment' && !('missing' in n));
  const live = deployments.filter((n) => 'status' in n && (n.status === 'running' || n.status === 'deployed'));
  md.field('Deployments', deployments.length ? `${deployments.length} (${live.length} live)` : 'none');
  return md.md;
}
