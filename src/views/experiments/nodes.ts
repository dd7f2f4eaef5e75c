import type { Artifact, ArtifactKind, Input, MetricSummary, Run } from '../../core/store/types.ts';

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
  kind: 'run';
  /** TreeItem id: unique per position, since a sweep's run shows in its experiment and under its sweep. */
  id: string;
  run: Run;
  keyMetric?: { key: string; value: number };
  children: number;
}

export type GroupKind = 'runs' | 'params' | 'metrics' | 'artifacts' | 'inputs' | 'code';

export interface GroupNode {
  kind: 'group';
  id: string;
  group: GroupKind;
  run: Run;
  count: number;
}

export interface ParamNode {
  kind: 'param';
  id: string;
  runId: number;
  key: string;
  value: string;
}

export interface MetricNode {
  kind: 'metric';
  id: string;
  runId: number;
  key: string;
  summary: MetricSummary;
}

export interface ArtifactNode {
  kind: 'artifact';
  id: string;
  runId: number;
  artifact: Artifact;
  /** Absolute path, when the run has an output folder. */
  file: string | undefined;
  artifactKind: ArtifactKind;
}

export interface InputNode {
  kind: 'input';
  id: string;
  runId: number;
  input: Input;
  file: string;
}

export interface CodeNode {
  kind: 'code';
  id: string;
  runId: number;
  label: string;
  value: string;
  icon: string;
}

export interface MoreNode {
  kind: 'more';
  experiment: string;
  shown: number;
  total: number;
  pageSize: number;
}

export interface MessageNode {
  kind: 'message';
  id: string;
  text: string;
  tooltip?: string;
  icon: string;
}

/** The run a node belongs to, for commands invoked on any node under a run. */
export function runIdOf(node: ExperimentsNode): number | undefined {
  switch (node.kind) {
    case 'run':
    case 'group':
      return node.run.id;
    case 'param':
    case 'metric':
    case 'artifact':
    case 'input':
    case 'code':
      return node.runId;
    default:
      return undefined;
  }
}
