import { isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { formatBytes } from '../../../core/format.ts';
import { SWEEP_TAG } from '../../../core/launch/lifecycle.ts';
import type { StoreChange } from '../../../core/store/changes.ts';
import type { Store } from '../../../core/store/store.ts';
import type { ArtifactKind, Run } from '../../../core/store/types.ts';
import type { Container } from '../../container.ts';
import { settings } from '../../settings.ts';
import { displayPath, formatDuration, formatNumber, formatTime, SafeMarkdown, statusIcon } from '../format.ts';
import type { SyncBadge } from '../../../core/store/sync.ts';
import type { ExperimentNode, ExperimentsNode, GroupKind, GroupNode, MoreNode, RunNode } from './nodes.ts';
import type { RunPageRow } from '../../../core/store/runQuery.ts';
import {
  describeState,
  isFiltered,
  preferredMetric,
  runQuery,
  sanitizeFilter,
  sanitizeSort,
  sanitizeState,
  sweepRunsQuery,
  type RunFilterState,
  type SortState,
  type ViewState,
} from './state.ts';
import { Disposable } from '../../lifecycle.ts';
import { describeNonFinite } from '../../../core/compare/constants.ts';
import { firstNonFinite } from '../../../core/compare/nonfinite.ts';
import { failureText, nonFiniteNotes } from './runProblems.ts';
import { guessDirection } from '../../../core/compare/direction.ts';
import { gateMetrics } from '../../../core/compare/gateMetrics.ts';

export const EXPERIMENTS_VIEW = 'runboard.experiments';
const STATE_KEY = 'runboard.experiments.state';
/** Context key: the view shows a filter (menus offer Clear Filter). */
export const FILTERED_CONTEXT = 'runboard.experiments.filtered';
const MAX_PARAMS_IN_TOOLTIP = 20;
const MAX_METRICS_IN_TOOLTIP = 12;

/**
 * Experiments → runs → params, metrics, artifacts, inputs, code. Every level is read from the
 * store when VS Code asks; an experiment's runs come a page at a time, so 10,000 runs cost one
 * page of reads. A change refreshes only what it touched: a run's node for its record or its
 * metrics, the experiment (or the sweep) for a created or deleted run, the whole tree only when
 * the change cannot be narrowed.
 *
 * Experiment and run nodes keep their identity across reads (updated in place, found by TreeItem
 * id): VS Code maps a tree item back to the node it was given, and a node it no longer knows
 * reaches a context-menu command as `undefined`. A whole-tree refresh forgets every node until
 * VS Code has read them again, which under a fast-logging run made ■ open the "pick a run" list.
 *
 * Only VS Code's own reads (through `viewProvider`) count as shown. VS Code answers a read of an
 * experiment from its cache until that experiment is refreshed, so a run counted as shown before
 * VS Code had read it was never refreshed into the experiment, and revealing it failed with
 * "Cannot resolve tree item" until something refreshed the whole tree. `getChildren` on this
 * object (revealRun, tests, the API) reads the same nodes without counting them.
 */
export class ExperimentsTree extends Disposable implements vscode.TreeDataProvider<ExperimentsNode> {
  private readonly emitter = this._register(new vscode.EventEmitter<ExperimentsNode | ExperimentsNode[] | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly stateEmitter = this._register(new vscode.EventEmitter<ViewState>());
  /** Fires when the filter or the sort changes. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly container: Container;
  private readonly memento: vscode.Memento;
  private viewState: ViewState;
  /** Pages shown per experiment (one more each "Load more"). */
  private readonly pages = new Map<string, number>();
  /** The experiment nodes VS Code has read, by name. */
  private readonly experimentNodes = new Map<string, ExperimentNode>();
  /** The run nodes VS Code has read, by TreeItem id (a sweep's run shows twice, under two ids). */
  private readonly runNodes = new Map<string, RunNode>();
  /** What each experiment's page showed when VS Code last read it. */
  private readonly shownPages = new WeakMap<ExperimentNode, { ids: number[]; matching: number }>();
  /** What the TreeView reads through: the same tree, but its reads are the ones counted as shown. */
  readonly viewProvider: vscode.TreeDataProvider<ExperimentsNode> = {
    onDidChangeTreeData: this.onDidChangeTreeData,
    getChildren: (node) => this.read(node, true),
    getParent: (node) => this.getParent(node),
    getTreeItem: (node) => this.getTreeItem(node),
    resolveTreeItem: (item, node) => this.resolveTreeItem(item, node),
  };

  constructor(container: Container, memento: vscode.Memento) {
    super();
    this.container = container;
    this.memento = memento;
    this.viewState = sanitizeState(memento.get(STATE_KEY));
    this._register(container.changes.onDidChange((change) => this.changed(change)));
    void this.updateContext();
  }

  get state(): ViewState {
    return structuredClone(this.viewState);
  }

  describe(): string {
    return describeState(this.viewState);
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async setFilter(filter: RunFilterState): Promise<void> {
    await this.setState({ ...this.viewState, filter: sanitizeFilter(filter) });
  }

  async setSort(sort: SortState): Promise<void> {
    await this.setState({ ...this.viewState, sort: sanitizeSort(sort) });
  }

  async clearFilter(): Promise<void> {
    await this.setState({ ...this.viewState, filter: {} });
  }

  /** Shows one more page of an experiment's runs. */
  loadMore(experiment: string): void {
    this.pages.set(experiment, (this.pages.get(experiment) ?? 1) + 1);
    const node = this.experimentNodes.get(experiment);
    this.emitter.fire(node);
  }

  /** Refreshes the nodes a change touched, in one event. */
  private changed(change: StoreChange): void {
    const store = this.container.openStore;
    if (change.everything || !store) {
      this.refresh();
      return;
    }
    const { filter, sort } = this.viewState;
    // When the filter or the order depends on what changed, a run may move or leave its page.
    const listDependsOnRecord = Boolean(filter.statuses?.length || filter.text || filter.param) || ['status', 'name', 'duration'].includes(sort.by);
    const listDependsOnMetrics = Boolean(filter.metric) || sort.by === 'metric';
    const touched = new Set<ExperimentsNode>();
    /** Pages to read again: refreshed whole only when their runs or order really changed. */
    const pagesToCheck = new Set<ExperimentNode>();
    const updated = (node: RunNode, listMayChange: boolean) => {
      touched.add(node);
      if (listMayChange && node.parent?.kind === 'experiment') pagesToCheck.add(node.parent);
    };
    let root = false;
    for (const runId of change.deletedRuns) {
      for (const node of this.nodesOfRun(runId)) {
        this.runNodes.delete(node.id);
        touched.add(listOf(node));
      }
    }
    for (const runId of change.runs) {
      const run = store.run(runId);
      if (!run) continue;
      const nodes = this.nodesOfRun(runId);
      if (nodes.length === 0) {
        // A new run (or one not shown): its experiment's count and list, or its sweep's, change.
        const parents = run.parentId === null ? [] : this.nodesOfRun(run.parentId);
        const experiment = this.experimentNodes.get(run.experiment);
        if (parents.length) parents.forEach((p) => touched.add(p));
        else if (experiment) touched.add(experiment);
        else root = true;
        continue;
      }
      for (const node of nodes) updated(Object.assign(node, this.readRunNode(store, run, node.id)), listDependsOnRecord);
    }
    for (const runId of change.metrics) {
      for (const node of this.nodesOfRun(runId)) {
        node.keyMetric = this.keyMetric(store, runId);
        updated(node, listDependsOnMetrics);
      }
    }
    // Refreshing a page makes VS Code forget its items until it has read them again: only when it changed.
    for (const experiment of pagesToCheck) {
      const shown = this.shownPages.get(experiment);
      const { runs, matching } = this.page(store, experiment);
      if (!shown || shown.matching !== matching || shown.ids.join() !== runs.map((r) => r.id).join()) touched.add(experiment);
    }
    // An experiment's label shows its run counts, re-read here in place; one that left the list takes the root with it.
    const experiments = [...touched].filter((n): n is ExperimentNode => n.kind === 'experiment');
    if (!root && experiments.length > 0) {
      const listed = this.experiments(store, false);
      root = experiments.some((node) => !listed.includes(node));
    }
    if (root) this.refresh();
    else if (touched.size > 0) this.emitter.fire([...touched]);
  }

  private nodesOfRun(runId: number): RunNode[] {
    return [...this.runNodes.values()].filter((node) => node.run.id === runId);
  }

  /** The node VS Code read before under this key, updated in place, else the fresh one (kept when VS Code reads it). */
  private keep<T extends ExperimentNode | RunNode>(known: Map<string, T>, key: string, fresh: T, byView: boolean): T {
    const node = known.get(key);
    if (!node) {
      if (byView) known.set(key, fresh);
      return fresh;
    }
    return Object.assign(node, fresh);
  }

  /** Forgets the run nodes a list no longer holds. */
  private forgetMissing(parent: ExperimentsNode, children: readonly ExperimentsNode[]): void {
    const kept = new Set(children);
    for (const [id, node] of this.runNodes) if (node.parent === parent && !kept.has(node)) this.runNodes.delete(id);
  }

  private async setState(state: ViewState): Promise<void> {
    this.viewState = state;
    this.pages.clear();
    // Kept per workspace, so a filter survives reloads.
    await this.memento.update(STATE_KEY, state);
    await this.updateContext();
    this.stateEmitter.fire(this.state);
    this.refresh();
  }

  private updateContext(): Thenable<unknown> {
    return vscode.commands.executeCommand('setContext', FILTERED_CONTEXT, isFiltered(this.viewState.filter));
  }

  // ── data ───────────────────────────────────────────────────────────────────
  /** The nodes VS Code would get, without counting them as shown (see the class comment). */
  getChildren(node?: ExperimentsNode): Promise<ExperimentsNode[]> {
    return this.read(node, false);
  }

  private async read(node: ExperimentsNode | undefined, byView: boolean): Promise<ExperimentsNode[]> {
    if (!this.container.hasDatabase()) return [];
    let store: Store;
    try {
      store = await this.container.store();
    } catch (err) {
      this.container.log.error('Cannot open the database', err as Error);
      return [{ kind: 'message', id: 'error', text: `Cannot open the database: ${(err as Error).message}`, icon: 'error', tooltip: this.container.dbPath }];
    }
    try {
      const children = this.children(store, node, byView);
      if (node) {
        // A node VS Code holds keeps the parent VS Code gave it (a sweep's run lists under a group read afresh each time).
        for (const child of children) if (child.kind !== 'experiment' && (byView || !child.parent)) child.parent = node;
        if (byView) this.forgetMissing(node, children);
      }
      return children;
    } catch (err) {
      this.container.log.error('Reading the Experiments view failed', err as Error);
      return [{ kind: 'message', id: 'error', text: `Cannot read runs: ${(err as Error).message}`, icon: 'error' }];
    }
  }

  private children(store: Store, node: ExperimentsNode | undefined, byView: boolean): ExperimentsNode[] {
    if (!node) return this.experiments(store, byView);
    switch (node.kind) {
      case 'experiment':
        return this.runs(store, node, byView);
      case 'run':
        return this.groups(store, node);
      case 'group':
        return this.groupChildren(store, node, byView);
      default:
        return [];
    }
  }

  private experiments(store: Store, byView: boolean): ExperimentNode[] {
    const filter = this.viewState.filter;
    const filtered = isFiltered(filter);
    return (
      store
        .experiments()
        .map((e) =>
          this.keep(this.experimentNodes, e.name, {
            kind: 'experiment' as const,
            name: e.name,
            total: e.runCount,
            matching: filtered ? store.runPage(runQuery(this.viewState, e.name, { limit: 0, offset: 0 })).total : e.runCount,
          }, byView),
        )
        // Filtered, an experiment without a match is hidden; none left shows the view's "no match" welcome.
        .filter((e) => !filtered || e.matching > 0)
    );
  }

  private runs(store: Store, experiment: ExperimentNode, byView: boolean): ExperimentsNode[] {
    const { runs, matching } = this.page(store, experiment);
    if (byView) this.shownPages.set(experiment, { ids: runs.map((r) => r.id), matching });
    const badges = store.sync.badges(runs.map((r) => r.id));
    const nodes: ExperimentsNode[] = runs.map((row) => this.keep(this.runNodes, `run:${row.id}`, pageRunNode(row, `run:${row.id}`, badges.get(row.id)), byView));
    if (matching > runs.length) {
      nodes.push({ kind: 'more', experiment: experiment.name, shown: runs.length, total: matching, pageSize: settings.pageSize() } satisfies MoreNode);
    }
    return nodes;
  }

  /**
   * The runs of an experiment as its page shows them (with key metric and child count), and how
   * many match the filter: one store query, a constant few statements whatever the page size.
   * The count has the page's conditions, so "Load more" never promises runs it cannot show.
   */
  private page(store: Store, experiment: ExperimentNode): { runs: RunPageRow[]; matching: number } {
    const limit = settings.pageSize() * (this.pages.get(experiment.name) ?? 1);
    const { runs, total } = store.runPage(runQuery(this.viewState, experiment.name, { limit, offset: 0 }), {
      keyMetric: this.preferredMetric(),
    });
    return { runs, matching: total };
  }

  /** One run read on its own: a run a change named, or a sweep's child (the page query lists top-level runs). */
  private readRunNode(store: Store, run: Run, id: string): RunNode {
    const sync = store.sync.badges([run.id]).get(run.id);
    return { kind: 'run', id, run, keyMetric: this.keyMetric(store, run.id), children: store.countRuns({ parentId: run.id }), ...(sync ? { sync } : {}) };
  }

  /** The metric shown beside a run, chosen as the page query chooses it: the preferred one, else the first by name. */
  private keyMetric(store: Store, runId: number): RunNode['keyMetric'] {
    const summaries = store.summaries(runId);
    const preferred = this.preferredMetric();
    const key = preferred !== undefined && summaries[preferred] ? preferred : Object.keys(summaries).sort()[0];
    return key === undefined ? undefined : { key, value: summaries[key]!.last };
  }

  private groups(store: Store, node: RunNode): GroupNode[] {
    const run = node.run;
    const group = (kind: GroupKind, count: number): GroupNode => ({ kind: 'group', id: `${node.id}/${kind}`, group: kind, run, count });
    const groups: GroupNode[] = [];
    // Filtered, a sweep shows as the context of its matching runs: only those are listed.
    if (node.children > 0) groups.push(group('runs', isFiltered(this.viewState.filter) ? store.runPage({ ...sweepRunsQuery(this.viewState, run.id), limit: 0 }).total : node.children));
    groups.push(
      group('params', Object.keys(store.params(run.id)).length),
      group('metrics', Object.keys(store.summaries(run.id)).length),
      group('artifacts', store.artifacts(run.id).length),
      group('inputs', store.inputs(run.id).length),
      group('code', store.codeState(run.id) ? 1 : 0),
    );
    // A sweep's own record is mostly empty (its runs hold the params and metrics): show what it has.
    return node.children > 0 ? groups.filter((g) => g.count > 0) : groups;
  }

  private groupChildren(store: Store, node: GroupNode, byView: boolean): ExperimentsNode[] {
    const runId = node.run.id;
    const prefix = node.id;
    switch (node.group) {
      case 'runs': {
        const runs = isFiltered(this.viewState.filter) ? store.runPage(sweepRunsQuery(this.viewState, runId)).runs : store.runs({ parentId: runId }).reverse();
        return runs.map((child) => this.keep(this.runNodes, `${prefix}/${child.id}`, this.readRunNode(store, child, `${prefix}/${child.id}`), byView));
      }
      case 'params':
        return Object.entries(store.params(runId)).map(([key, value]) => ({ kind: 'param', id: `${prefix}/${key}`, runId, key, value }));
      case 'metrics':
        return Object.entries(store.summaries(runId))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, summary]) => ({ kind: 'metric', id: `${prefix}/${key}`, runId, key, summary }));
      case 'artifacts':
        return store.artifacts(runId).map((artifact) => ({
          kind: 'artifact',
          id: `${prefix}/${artifact.path}`,
          runId,
          artifact,
          file: node.run.runDir ? join(node.run.runDir, artifact.path) : undefined,
          artifactKind: artifact.kind,
        }));
      case 'inputs':
        return store.inputs(runId).map((input) => ({
          kind: 'input',
          id: `${prefix}/${input.datasetId}`,
          runId,
          input,
          file: isAbsolute(input.path) ? input.path : resolve(this.container.workspace, input.path),
        }));
      case 'code': {
        const code = store.codeState(runId);
        if (!code) return [];
        const patchLines = code.patch ? code.patch.split('\n').length : 0;
        return [
          { kind: 'code', id: `${prefix}/commit`, runId, label: 'Commit', value: code.commit ? code.commit.slice(0, 12) : code.branch ? 'no commit yet' : 'not a git repository', icon: 'git-commit' },
          { kind: 'code', id: `${prefix}/branch`, runId, label: 'Branch', value: code.branch ?? '—', icon: 'git-branch' },
          {
            kind: 'code',
            id: `${prefix}/dirty`,
            runId,
            label: 'Uncommitted changes',
            value: code.dirty ? `yes (${patchLines} patch lines${code.patchTruncated ? ', truncated' : ''})` : 'none',
            icon: code.dirty ? 'diff' : 'check',
          },
        ];
      }
      default: {
        const never: never = node.group;
        return never;
      }
    }
  }

  getParent(node: ExperimentsNode): ExperimentsNode | undefined {
    return node.kind === 'experiment' ? undefined : node.parent;
  }

  // ── presentation ───────────────────────────────────────────────────────────
  getTreeItem(node: ExperimentsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'experiment': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `experiment:${node.name}`;
        item.iconPath = new vscode.ThemeIcon('beaker');
        item.description = node.matching === node.total ? plural(node.total, 'run') : `${node.matching} of ${plural(node.total, 'run')}`;
        item.contextValue = 'experiment';
        return item;
      }
      case 'run': {
        const { run } = node;
        const item = new vscode.TreeItem(run.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = node.id;
        item.iconPath = statusIcon(run.status);
        const parts: string[] = [];
        if (node.children > 0) parts.push(`sweep of ${plural(node.children, 'run')}`);
        const best = this.bestChild(node);
        if (best) parts.push(best);
        const diverged = this.divergence(node);
        if (diverged) {
          // A finished run whose key metric went NaN is no success: not a green tick beside "loss NaN".
          parts.push(diverged);
          if (run.status === 'finished') item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
        } else if (node.keyMetric) parts.push(`${node.keyMetric.key} ${formatNumber(node.keyMetric.value)}`);
        const duration = runDuration(run);
        if (duration) parts.push(duration);
        if (run.status !== 'finished' && run.status !== 'running') parts.push(run.status);
        if (node.sync) parts.push(node.sync === 'remote' && run.user ? `remote, by ${run.user}` : SYNC_LABELS[node.sync]);
        item.description = parts.join(' · ');
        // run.<status>, plus .sweep for a sweep's parent and .remote for a pulled (read-only) run:
        // menus match them with regexes, so stop, re-run and delete leave a teammate's run alone.
        item.contextValue = `run.${run.status}${node.children > 0 ? '.sweep' : ''}${node.sync === 'remote' ? '.remote' : ''}`;
        item.accessibilityInformation = { label: `Run ${run.name}, ${run.status}${node.keyMetric ? `, ${node.keyMetric.key} ${formatNumber(node.keyMetric.value)}` : ''}` };
        return item;
      }
      case 'group': {
        const labels: Record<GroupKind, [string, string]> = {
          runs: ['Runs', 'list-tree'],
          params: ['Params', 'symbol-parameter'],
          metrics: ['Metrics', 'graph-line'],
          artifacts: ['Artifacts', 'package'],
          inputs: ['Inputs', 'database'],
          code: ['Code', 'git-commit'],
        };
        const [label, icon] = labels[node.group];
        const item = new vscode.TreeItem(label, node.count > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon(icon);
        item.description = node.group === 'code' ? (node.count ? '' : 'not recorded') : String(node.count);
        item.contextValue = `group.${node.group}`;
        return item;
      }
      case 'param': {
        const item = new vscode.TreeItem(node.key);
        item.id = node.id;
        item.description = node.value;
        item.tooltip = new SafeMarkdown().field(node.key, node.value).md;
        item.contextValue = 'param';
        return item;
      }
      case 'metric': {
        const s = node.summary;
        const item = new vscode.TreeItem(node.key);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon('graph-line');
        item.description = `last ${formatNumber(s.last)} · min ${formatNumber(s.min)} · max ${formatNumber(s.max)}`;
        const md = new SafeMarkdown().raw('**').text(node.key).raw('**  \n');
        md.field('last', `${formatNumber(s.last)} (step ${s.lastStep})`).field('min', formatNumber(s.min)).field('max', formatNumber(s.max)).field('points', String(s.count));
        if (s.nonfinite) md.field('NaN/Inf points', String(s.nonfinite));
        // A restarted loop logs some steps again; the last value wins, and the user should know it happened.
        if (s.replaced) md.field('replaced by a later value', String(s.replaced));
        item.tooltip = md.md;
        item.contextValue = 'metric';
        return item;
      }
      case 'artifact': {
        const item = new vscode.TreeItem(node.artifact.path);
        item.id = node.id;
        item.description = `${node.artifactKind} · ${formatBytes(node.artifact.size)}`;
        item.contextValue = `artifact.${node.artifactKind}`;
        // No resourceUri: run folders sit in git-ignored `.runboard/`, and the git decoration would
        // grey every artifact out as if it were disabled. The icon says the kind instead.
        item.iconPath = new vscode.ThemeIcon(ARTIFACT_ICONS[node.artifactKind]);
        if (node.file) item.command = { command: 'vscode.open', title: 'Open Artifact', arguments: [vscode.Uri.file(node.file)] };
        item.tooltip = new SafeMarkdown().field('path', node.file ?? node.artifact.path).field('kind', node.artifactKind).field('size', formatBytes(node.artifact.size)).field('sha256', node.artifact.sha256).md;
        return item;
      }
      case 'input': {
        const item = new vscode.TreeItem(displayPath(this.container.workspace, node.input.path));
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon('database');
        item.description = `${formatBytes(node.input.size)} · ${node.input.fingerprint.slice(0, 10)}`;
        item.tooltip = new SafeMarkdown().field('path', node.file).field('size', formatBytes(node.input.size)).field('fingerprint', node.input.fingerprint).md;
        item.resourceUri = vscode.Uri.file(node.file);
        item.contextValue = 'input';
        return item;
      }
      case 'code': {
        const item = new vscode.TreeItem(node.label);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.description = node.value;
        item.contextValue = 'code';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load ${Math.min(node.pageSize, node.total - node.shown)} more…`);
        item.id = `more:${node.experiment}:${node.shown}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.description = `${node.shown} of ${node.total} shown`;
        item.command = { command: 'runboard.loadMoreRuns', title: 'Load More Runs', arguments: [node.experiment] };
        item.contextValue = 'more';
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.id = `message:${node.id}`;
        item.iconPath = new vscode.ThemeIcon(node.icon, node.icon === 'error' ? new vscode.ThemeColor('errorForeground') : undefined);
        if (node.tooltip) item.tooltip = node.tooltip;
        return item;
      }
      default: {
        const never: never = node;
        return never;
      }
    }
  }

  /** The metric beside each run: sorted-by, configured, else what the profiles' gates test. */
  private preferredMetric(): string | undefined {
    return preferredMetric(this.viewState, settings.keyMetric(), gateMetrics(this.container.workspace)[0]);
  }

  /**
   * A sweep's best finished run by the key metric (its direction guessed from the name): the
   * answer a sweep is run for. One page query, only for sweep rows.
   */
  private bestChild(node: RunNode): string | undefined {
    const key = this.preferredMetric();
    const store = this.container.openStore;
    if (node.children === 0 || !key || !store) return undefined;
    const descending = guessDirection(key) === 'max';
    const [best] = store.runPage({ parentId: node.run.id, statuses: ['finished'], sort: { by: 'metric', key, descending }, limit: 1, offset: 0 }, { keyMetric: key }).runs;
    return best?.keyMetric?.key === key && Number.isFinite(best.keyMetric.value) ? `best ${best.name} (${key} ${formatNumber(best.keyMetric.value)})` : undefined;
  }

  /** `loss went NaN at step 15` when the key metric's last value is NaN or ±Infinity (read only then). */
  private divergence(node: RunNode): string | undefined {
    const key = node.keyMetric;
    const store = this.container.openStore;
    if (!key || Number.isFinite(key.value) || !store) return undefined;
    const summary = store.summaries(node.run.id)[key.key];
    const point = summary && firstNonFinite(store, node.run.id, key.key, summary);
    return point ? describeNonFinite(key.key, point) : undefined;
  }

  /** Run tooltips need params, commit and metrics: read on hover, not for every row. */
  async resolveTreeItem(item: vscode.TreeItem, node: ExperimentsNode): Promise<vscode.TreeItem> {
    if (node.kind !== 'run' || item.tooltip) return item;
    const store = this.container.openStore;
    if (!store) return item;
    try {
      item.tooltip = runTooltip(store, store.run(node.run.id) ?? node.run, this.container.workspace);
    } catch (err) {
      this.container.log.warn(`Tooltip of run ${node.run.id}: ${(err as Error).message}`);
    }
    return item;
  }

}

/** What to read again when a run may move in or leave its list: its experiment, or its sweep's run node. */
function listOf(node: RunNode): ExperimentsNode {
  const parent = node.parent;
  if (parent?.kind === 'group') return parent.parent ?? parent;
  return parent ?? node;
}

/** A run node from a page row, whose key metric and child count came with the page. */
function pageRunNode(row: RunPageRow, id: string, sync: SyncBadge | undefined): RunNode {
  const { keyMetric, childCount, ...run } = row;
  return { kind: 'run', id, run, ...(keyMetric ? { keyMetric } : {}), children: childCount, ...(sync ? { sync } : {}) };
}

const SYNC_LABELS: Record<SyncBadge, string> = { pushed: 'pushed', changed: 'changed since push', remote: 'remote' };

function runDuration(run: Run): string {
  if (run.startedAt === null) return '';
  return formatDuration((run.endedAt ?? Date.now()) - run.startedAt);
}

const ARTIFACT_ICONS: Record<ArtifactKind, string> = { model: 'package', data: 'database', plot: 'graph', other: 'file' };

const plural = (n: number, word: string): string => `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;

export function runTooltip(store: Store, run: Run, workspace: string): vscode.MarkdownString {
  const md = new SafeMarkdown();
  md.raw('$(beaker) **').text(run.name).raw(`** · run ${run.id}\n\n`);
  md.field('Status', `${run.status}${run.signal ? ` (${run.signal})` : ''}${run.exitCode !== null ? `, exit code ${run.exitCode}` : ''}`);
  md.field('Experiment', run.experiment);
  if (run.profile) md.field('Profile', run.profile);
  if (store.tags(run.id)[SWEEP_TAG] !== undefined) md.field('Sweep', `${store.countRuns({ parentId: run.id })} runs`);
  if (run.parentId !== null) md.field('Part of', `run ${run.parentId}`);
  md.field('Started', formatTime(run.startedAt ?? run.createdAt));
  if (run.endedAt !== null) md.field('Ended', `${formatTime(run.endedAt)} (${runDuration(run)})`);
  const code = store.codeState(run.id);
  if (code) md.field('Commit', `${code.commit ? code.commit.slice(0, 12) : 'none'}${code.branch ? ` on ${code.branch}` : ''}${code.dirty ? ' + uncommitted changes' : ''}`);
  if (run.runDir) md.field('Output', displayPath(workspace, run.runDir));
  const failure = failureText(run);
  if (failure?.includes('\n')) md.raw('**Error:**\n').code(failure);
  else if (failure) md.field('Error', failure);
  for (const note of nonFiniteNotes(store, run.id)) md.raw('$(warning) ').text(note).raw('  \n');
  const params = Object.entries(store.params(run.id));
  if (params.length) {
    md.raw('\n**Params**  \n');
    for (const [key, value] of params.slice(0, MAX_PARAMS_IN_TOOLTIP)) md.text(`${key} = ${value}`).raw('  \n');
    if (params.length > MAX_PARAMS_IN_TOOLTIP) md.raw(`…and ${params.length - MAX_PARAMS_IN_TOOLTIP} more  \n`);
  }
  const metrics = Object.entries(store.summaries(run.id)).sort(([a], [b]) => a.localeCompare(b));
  if (metrics.length) {
    md.raw('\n**Metrics** (last · min · max)  \n');
    for (const [key, s] of metrics.slice(0, MAX_METRICS_IN_TOOLTIP)) md.text(`${key}: ${formatNumber(s.last)} · ${formatNumber(s.min)} · ${formatNumber(s.max)}${s.replaced ? ` · ${s.replaced} replaced` : ''}`).raw('  \n');
    if (metrics.length > MAX_METRICS_IN_TOOLTIP) md.raw(`…and ${metrics.length - MAX_METRICS_IN_TOOLTIP} more  \n`);
  }
  return md.md;
}
