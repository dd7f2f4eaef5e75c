export const RUN_STATUSES = ['queued', 'running', 'finished', 'failed', 'killed', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const isTerminal = (s: RunStatus): boolean => s !== 'queued' && s !== 'running';

export const ARTIFACT_KINDS = ['model', 'data', 'plot', 'other'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface Experiment {
  id: number;
  name: string;
  createdAt: number;
  /** Its last rename, deletion or restore (its creation until then). */
  updatedAt: number;
  /** Set while deleted through MLflow (restorable); its runs are deleted with it. */
  deletedAt: number | null;
  runCount: number;
}

export interface Run {
  id: number;
  experimentId: number;
  experiment: string;
  name: string;
  status: RunStatus;
  command: string[];
  cwd: string | null;
  pid: number | null;
  host: string | null;
  profile: string | null;
  runDir: string | null;
  parentId: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  malformedLines: number;
  /** The run's id for MLflow clients: 32 lowercase hex digits. */
  mlflowId: string;
  /** Epoch ms when an MLflow client deleted it (hidden from lists, restorable), else null. */
  deletedAt: number | null;
  /** Who logged it (MLflow's user_id), when known. */
  user: string | null;
}

export interface NewRun {
  experiment?: string;
  name?: string;
  status?: RunStatus;
  command?: string[];
  cwd?: string;
  host?: string;
  profile?: string;
  runDir?: string;
  parentId?: number;
  params?: Record<string, string | number | boolean>;
  /** Epoch ms; default now. An import passes the recorded start. */
  createdAt?: number;
  /** Epoch ms; a run created already running (an MLflow client's) passes its start. */
  startedAt?: number;
  /** 32 lowercase hex digits; default a random one. */
  mlflowId?: string;
  user?: string;
}

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
  /** Epoch ms; defaults to now. */
  wall?: number;
}

export interface MetricSummary {
  last: number;
  lastStep: number;
  lastWall: number;
  /** Over finite values only; NaN when the series has none. */
  min: number;
  max: number;
  count: number;
  /** How many points were NaN or ±Inf. */
  nonfinite: number;
  /** How many points a later value for the same step replaced (the last value logged wins). */
  replaced: number;
}

export interface SeriesPoint {
  step: number;
  wall: number;
  value: number;
}

/** One bucket of a min/max envelope: [start, end] steps, finite min/max/mean, last value. */
export interface EnvelopeBucket {
  start: number;
  end: number;
  min: number;
  max: number;
  mean: number;
  last: number;
  lastStep: number;
  lastWall: number;
  count: number;
  nonfinite: number;
}

export interface Envelope {
  key: string;
  from: number;
  to: number;
  width: number;
  /** Where the buckets were read from: raw points, or the rollup tier 2^k. */
  source: 'raw' | `tier${number}`;
  buckets: EnvelopeBucket[];
}

export interface Artifact {
  path: string;
  size: number;
  sha256: string;
  kind: ArtifactKind;
  createdAt: number;
}

export interface Input {
  datasetId: number;
  path: string;
  fingerprint: string;
  size: number;
}

export interface CodeState {
  commit: string | null;
  branch: string | null;
  dirty: boolean;
  patch: string | null;
  patchTruncated: boolean;
}

export type LineageKind = 'dataset' | 'run' | 'model_version' | 'deployment';

export interface LineageEdge {
  srcKind: LineageKind;
  srcId: number;
  dstKind: LineageKind;
  dstId: number;
  relation: string;
}
