import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, writeSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ensureRealDir, openNoFollow } from '../io/safePaths.ts';
import { DEFAULT_EXPERIMENT } from '../store/runs.ts';
import type { Store } from '../store/store.ts';
import type { MetricPoint, RunStatus } from '../store/types.ts';
import { artifactKind, MAX_WHOLE_FILE_BYTES } from '../tracking/runFolder.ts';
import { dataDirOf, defaultRunDir, workspaceOf } from '../workspace.ts';

/** MLflow's RunStatus numbers in a file store's meta.yaml (mlflow/protos/service.proto). */
const STATUS_BY_NUMBER: Record<string, RunStatus> = { '1': 'running', '2': 'queued', '3': 'finished', '4': 'failed', '5': 'killed' };
const MLFLOW_ID = /^[0-9a-f]{32}$/;
/** Folders of an `mlruns/` that hold no experiment: deleted ones and the model registry. */
const NOT_EXPERIMENTS = new Set(['.trash', 'models']);

export interface MlflowImportReport {
  imported: { id: number; mlflowId: string; name: string; experiment: string }[];
  /** MLflow run ids imported before (by a previous import or logged through `runboard serve`). */
  skipped: string[];
  /** One line per thing not imported: a run, or a part of one (a metric line, a linked artifact). */
  problems: string[];
}

interface MlflowRun {
  dir: string;
  mlflowId: string;
  experiment: string;
  meta: Record<string, string>;
  tags: Record<string, string>;
}

/**
 * Reads an MLflow file store (`mlruns/`: experiments and their tags, runs, params, tags, metric histories and
 * artifacts) into the store, each run once, keyed by its MLflow run id. A run that cannot be read
 * is a line in `problems` and the others are imported; artifacts are copied into the run's
 * folder, never through a symbolic link on either side.
 */
export function importMlflowStore(store: Store, root: string): MlflowImportReport {
  const report: MlflowImportReport = { imported: [], skipped: [], problems: [] };
  const runs: MlflowRun[] = [];
  for (const name of folders(root, report)) {
    if (NOT_EXPERIMENTS.has(name)) continue;
    const dir = join(root, name);
    let meta: Record<string, string>;
    try {
      meta = readMeta(dir);
    } catch (err) {
      report.problems.push(`${dir}: ${messageOf(err)}; its runs were not imported`);
      continue;
    }
    if (meta.lifecycle_stage === 'deleted') continue;
    // MLflow's experiment 0 is its default one, as Runboard's DEFAULT_EXPERIMENT (src/core/mlflow/ids.ts).
    const experiment = meta.experiment_id === '0' ? DEFAULT_EXPERIMENT : meta.name;
    if (!experiment) {
      report.problems.push(`${join(dir, 'meta.yaml')}: no experiment name; its runs were not imported`);
      continue;
    }
    const experimentTags = Object.entries(readValues(join(dir, 'tags'), report));
    if (experimentTags.length) {
      const experimentId = store.experimentId(experiment);
      for (const [key, value] of experimentTags) store.setExperimentTag(experimentId, key, value);
    }
    for (const runName of folders(dir, report)) {
      if (runName === 'tags') continue;
      const runDir = join(dir, runName);
      try {
        const runMeta = readMeta(runDir);
        if (runMeta.lifecycle_stage === 'deleted') continue;
        if (!MLFLOW_ID.test(runName)) throw new Error('the folder is not named by a 32-hex MLflow run id');
        runs.push({ dir: runDir, mlflowId: runName, experiment, meta: runMeta, tags: readValues(join(runDir, 'tags'), report) });
      } catch (err) {
        report.problems.push(`${runDir}: ${messageOf(err)}; not imported`);
      }
    }
  }
  // Parents before their children, so a child finds its parent's Runboard id.
  const pending = new Map(runs.map((r) => [r.mlflowId, r]));
  const importOne = (run: MlflowRun) => {
    pending.delete(run.mlflowId);
    const parentId = run.tags['mlflow.parentRunId'];
    const parent = parentId === undefined ? undefined : pending.get(parentId);
    if (parent) importOne(parent);
    if (store.runByMlflowId(run.mlflowId)) {
      report.skipped.push(run.mlflowId);
      return;
    }
    try {
      report.imported.push(importRun(store, run, report));
    } catch (err) {
      report.problems.push(`${run.dir}: ${messageOf(err)}; not imported`);
    }
  };
  for (const run of runs) if (pending.has(run.mlflowId)) importOne(run);
  return report;
}

function importRun(store: Store, source: MlflowRun, report: MlflowImportReport): MlflowImportReport['imported'][number] {
  const { meta, tags } = source;
  const status = STATUS_BY_NUMBER[meta.status ?? ''];
  if (!status) throw new Error(`meta.yaml: status ${JSON.stringify(meta.status)} is none of MLflow's (1-5)`);
  const startedAt = timeOf(meta, 'start_time');
  const endedAt = timeOf(meta, 'end_time');
  const params = readValues(join(source.dir, 'params'), report);
  const metrics = readMetrics(source.dir, report);
  const parent = tags['mlflow.parentRunId'] === undefined ? undefined : store.runByMlflowId(tags['mlflow.parentRunId']);
  const run = store.createRun({
    experiment: source.experiment,
    name: tags['mlflow.runName'] || meta.run_name || source.mlflowId,
    status: 'running',
    mlflowId: source.mlflowId,
    ...(meta.user_id ? { user: meta.user_id } : {}),
    ...(parent ? { parentId: parent.id } : {}),
    ...(startedAt === undefined ? {} : { createdAt: startedAt }),
  });
  try {
    store.setParams(run.id, params);
    store.setTags(run.id, tags);
    store.logMetrics(run.id, metrics);
    const commit = tags['mlflow.source.git.commit'];
    if (commit) store.setCodeState(run.id, { commit, branch: tags['mlflow.source.git.branch'] ?? null, dirty: false, patch: null, patchTruncated: false });
    copyArtifacts(store, run.id, join(source.dir, 'artifacts'), report);
    // A run MLflow still calls RUNNING has no process Runboard could watch: it ended unseen.
    const ended = status === 'running' || status === 'queued' ? 'crashed' : status;
    store.markEnded(run.id, { status: ended, error: ended === 'crashed' ? `${status.toUpperCase()} in MLflow's store when imported: no end was recorded.` : null });
    store.setRunTimes(run.id, { startedAt: startedAt ?? null, endedAt: endedAt ?? null });
  } catch (err) {
    store.deleteRun(run.id);
    throw err;
  }
  return { id: run.id, mlflowId: source.mlflowId, name: run.name, experiment: run.experiment };
}

/** A file store's `timestamp value step` lines per metric; NaN and ±Inf as MLflow writes them. */
function readMetrics(runDir: string, report: MlflowImportReport): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const [key, text] of Object.entries(readValues(join(runDir, 'metrics'), report))) {
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const [wall, value, step = '0', ...rest] = line.trim().split(/\s+/);
      const point = { key, wall: Number(wall), value: metricValue(value!), step: Number(step) };
      if (rest.length || !Number.isSafeInteger(point.wall) || !Number.isSafeInteger(point.step) || point.value === undefined) {
        report.problems.push(`${join(runDir, 'metrics', key)} line ${index + 1}: ${JSON.stringify(line.slice(0, 80))} is not "timestamp value step"; that line was left out`);
        return;
      }
      points.push(point as MetricPoint);
    });
  }
  return points;
}

function metricValue(text: string): number | undefined {
  const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };
  const lower = text.toLowerCase();
  if (lower in special) return special[lower];
  const value = Number(text);
  return text !== '' && Number.isFinite(value) ? value : undefined;
}

/** Copies `artifacts/` into the run's folder and records each file; a symbolic link is skipped with a line. */
function copyArtifacts(store: Store, runId: number, from: string, report: MlflowImportReport): void {
  const files = walk(from, report);
  if (files.length === 0) return;
  const runDir = defaultRunDir(store.file, runId);
  const data = dataDirOf(workspaceOf(store.file));
  ensureRealDir(data, runDir);
  store.setRunDir(runId, runDir);
  for (const rel of files) {
    const target = join(runDir, 'artifacts', rel);
    ensureRealDir(data, join(target, '..'));
    const { size, sha256 } = copyNoFollow(join(from, rel), target);
    const path = `artifacts/${rel.split(sep).join('/')}`;
    store.addArtifact(runId, { path, size, sha256, kind: artifactKind(path) });
  }
}

function copyNoFollow(from: string, to: string): { size: number; sha256: string } {
  const input = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(input).isFile()) throw new Error(`${from} is not a regular file`);
    const output = openNoFollow(to);
    try {
      const hash = createHash('sha256');
      const buffer = Buffer.alloc(1 << 16);
      let size = 0;
      for (let n = readSync(input, buffer); n > 0; n = readSync(input, buffer)) {
        writeSync(output, buffer, 0, n);
        hash.update(buffer.subarray(0, n));
        size += n;
      }
      return { size, sha256: hash.digest('hex') };
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
}

/** Regular files below `dir` (relative paths); links and other odd entries are reported, not followed. */
function walk(dir: string, report: MlflowImportReport, base = dir): string[] {
  const found: string[] = [];
  for (const name of namesIn(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) found.push(...walk(path, report, base));
    else if (stat.isFile()) found.push(relative(base, path));
    else report.problems.push(`${path}: ${kindOf(stat)}, not a regular file; left out`);
  }
  return found;
}

const kindOf = (stat: Stats) => (stat.isSymbolicLink() ? 'a symbolic link' : 'a special file');

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Sub-folders by name; a linked folder is reported and left out. */
function folders(dir: string, report: MlflowImportReport): string[] {
  return namesIn(dir).filter((name) => {
    const stat = lstatSync(join(dir, name));
    if (stat.isSymbolicLink()) report.problems.push(`${join(dir, name)}: a symbolic link; left out`);
    return stat.isDirectory();
  });
}

/** params/ or tags/ or metrics/: one file per key, nested keys (`a/b`) as sub-folders. */
function readValues(dir: string, report: MlflowImportReport): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rel of walk(dir, report)) values[rel.split(sep).join('/')] = readText(join(dir, rel));
  return values;
}

function readText(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    if (stat.size > MAX_WHOLE_FILE_BYTES) throw new Error(`${path} is ${stat.size} bytes, more than the ${MAX_WHOLE_FILE_BYTES} it may have`);
    const buffer = Buffer.alloc(stat.size);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, length);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * A meta.yaml as MLflow's file store writes it (PyYAML's safe_dump of a flat mapping): `key:
 * value` lines, values plain or quoted, long ones folded onto indented lines; `tags: []` is empty.
 */
function readMeta(dir: string): Record<string, string> {
  const path = join(dir, 'meta.yaml');
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('no meta.yaml');
    throw err;
  }
  const raw = new Map<string, { text: string; line: number }>();
  let last: { text: string; line: number } | undefined;
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    if (/^\s/.test(line) && last) {
      last.text = `${last.text} ${line.trim()}`;
      return;
    }
    const m = /^([A-Za-z_]\w*):(?:\s+(.*))?$/.exec(line);
    if (!m) throw new Error(`meta.yaml line ${index + 1} is not "key: value": ${JSON.stringify(line.slice(0, 80))}`);
    raw.set(m[1]!, (last = { text: m[2] ?? '', line: index + 1 }));
  });
  return Object.fromEntries([...raw].map(([key, value]) => [key, scalar(value.text, value.line)]));
}

function scalar(raw: string, line: number): string {
  if (raw.startsWith("'")) {
    if (!raw.endsWith("'") || raw.length < 2) throw new Error(`meta.yaml line ${line}: unclosed quote`);
    return raw.slice(1, -1).replace(/''/g, "'");
  }
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      throw new Error(`meta.yaml line ${line}: unreadable quoted text`);
    }
  }
  return raw === 'null' || raw === '~' ? '' : raw;
}

function timeOf(meta: Record<string, string>, key: string): number | undefined {
  const text = meta[key];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`meta.yaml: ${key} ${JSON.stringify(text)} is not a time in ms since 1970`);
  return value;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
