import type { SyncBadge } from '../../../core/store/sync.ts';
import type { Artifact, ArtifactKind, Input, MetricSummary, Run } from '../../../core/store/types.ts';

/** Plain data of the Experiments tree; getTreeItem maps each kind to a TreeItem. */
export type ExperimentsNode =
  | ExperimentNode
  | RunNode
  | GroupNode
  | ParamNode
  | MetricNode
  | ArtifactNode
  | InputNode
  | CodeNode
  | MoreNode
  | MessageNode;

export interface ExperimentNode {
  kind: 'experiment';
  name: string;
  total: number;
  /** Runs matching the filter (equals total when unfiltered). */
  matching: number;
}

export interface RunNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'run';
  /** TreeItem id: unique per position, since a sweep's run shows in its experiment and under its sweep. */
  id: string;
  run: Run;
  keyMetric?: { key: string; value: number };
  children: number;
  /** Pushed to a remote, changed since, or pulled from one; absent for a run only recorded here. */
  sync?: SyncBadge;
}

export type GroupKind = 'runs' | 'params' | 'metrics' | 'artifacts' | 'inputs' | 'code';

export interface GroupNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'group';
  id: string;
  group: GroupKind;
  run: Run;
  count: number;
}

export interface ParamNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'param';
  id: string;
  runId: number;
  key: string;
  value: string;
}

export interface MetricNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'metric';
  id: string;
  runId: number;
  key: string;
  summary: MetricSummary;
}

export interface ArtifactNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'artifact';
  id: string;
  runId: number;
  artifact: Artifact;
  /** Absolute path, when the run has an output folder. */
  file: string | undefined;
  artifactKind: ArtifactKind;
}

export interface InputNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'input';
  id: string;
  runId: number;
  input: Input;
  file: string;
}

export interface CodeNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'code';
  id: string;
  runId: number;
  label: string;
  value: string;
  icon: string;
}

export interface MoreNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'more';
  experiment: string;
  shown: number;
  total: number;
  pageSize: number;
}

export interface MessageNode {
  /** Set by the tree when it hands the node out (TreeView.reveal walks up with it). */
  parent?: ExperimentsNode;
  kind: 'message';
  id: string;
  text: string;
  tooltip?: string;
  icon: string;
}
