import { createHash } from 'node:crypto';
import { closeSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { ensureRealDir, openNoFollow } from '../io/safePaths.ts';
import { DEFAULT_EXPERIMENT } from '../store/runs.ts';
import type { Store } from '../store/store.ts';
import type { MetricPoint, Run, RunStatus } from '../store/types.ts';
import { artifactKind } from '../tracking/runFolder.ts';
import { dataDirOf, defaultRunDir, workspaceOf } from '../workspace.ts';
import { mlflowNumber, RemoteError, type MlflowClient } from './client.ts';
import { RemoteExperiments } from './experiments.ts';
import { artifactRoot, SOURCE_TAG } from './push.ts';

const LOCAL_STATUS: Record<string, RunStatus> = { RUNNING: 'running', SCHEDULED: 'queued', FINISHED: 'finished', FAILED: 'failed', KILLED: 'killed' };
/** MLflow's largest page of runs/search. */
const RUNS_PAGE = 1000;
/** Points per metrics/get-history page. */
const HISTORY_PAGE = 25_000;
/** get-history requests in flight at once. */
const HISTORY_REQUESTS = 4;

interface KeyValue {
  key: string;
  value: string;
}

interface RemoteMetric {
  key: string;
  value: number | string;
  timestamp?: number | string;
  step?: number | string;
}

export interface RemoteRun {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id: string;
    user_id?: string;
    status?: string;
    start_time?: number | string;
    end_time?: number | string;
    artifact_uri?: string;
    lifecycle_stage?: string;
  };
  data?: { metrics?: RemoteMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export interface PulledRun {
  id: number;
  remoteRunId: string;
  name: string;
  experiment: string;
  author: string | null;
  created: boolean;
  points: number;
}

export interface PullSummary {
  remote: string;
  runs: PulledRun[];
  /** Remote runs already up to date here. */
  unchanged: number;
  /** Remote runs that are ours (pushed from here): never copied back. */
  ours: number;
  points: number;
}

export interface PullOptions {
  experiment?: string;
  onProgress?: (progress: { experiment: string; runs: number; points: number }) => void;
  signal?: AbortSignal;
}

/**
 * Brings teammates' runs from an MLflow server into the store as remote runs (marked with the
 * server and their author): params, tags, full metric histories, and the list of artifacts
 * (fetched on demand by `fetchArtifact`). Runs pushed from here are recognized by their remote
 * id (or their `runboard.run` tag) and never copied back; a run whose status, end, latest
 * metrics, params and tags are as last read is not read again.
 */
export async function pullRuns(store: Store, client: MlflowClient, options: PullOptions = {}): Promise<PullSummary> {
  const summary: PullSummary = { remote: client.url, runs: [], unchanged: 0, ours: 0, points: 0 };
  for (const experiment of await remoteExperiments(client, options.experiment)) {
    for await (const remoteRun of searchRuns(client, experiment.id)) {
      if (options.signal?.aborted) throw new UserError('pull cancelled; the runs read so far are kept and the next pull goes on');
      const pulled = await pullRun(store, client, experiment.name, remoteRun, summary);
      if (pulled) {
        summary.runs.push(pulled);
        summary.points += pulled.points;
      }
      options.onProgress?.({ experiment: experiment.name, runs: summary.runs.length, points: summary.points });
    }
  }
  return summary;
}

async function remoteExperiments(client: MlflowClient, name: string | undefined): Promise<{ id: string; name: string }[]> {
  if (name !== undefined) {
    const id = await new RemoteExperiments(client).find(name);
    if (id === undefined) throw new UserError(`the MLflow server at ${client.url} has no experiment "${name}"`);
    return [{ id, name }];
  }
  const found: { id: string; name: string }[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.post<{ experiments?: { experiment_id: string; name: string }[]; next_page_token?: string }>('experiments/search', {
      max_results: RUNS_PAGE,
      view_type: 'ACTIVE_ONLY',
      ...(pageToken ? { page_token: pageToken } : {}),
    });
    for (const e of page.experiments ?? []) found.push({ id: e.experiment_id, name: e.name });
    pageToken = page.next_page_token || undefined;
  } while (pageToken);
  return found;
}

async function* searchRuns(client: MlflowClient, experimentId: string): AsyncGenerator<RemoteRun> {
  let pageToken: string | undefined;
  do {
    const page = await client.post<{ runs?: RemoteRun[]; next_page_token?: string }>('runs/search', {
      experiment_ids: [experimentId],
      max_results: RUNS_PAGE,
      run_view_type: 'ACTIVE_ONLY',
      order_by: ['attributes.start_time ASC'],
      ...(pageToken ? { page_token: pageToken } : {}),
    });
    yield* page.runs ?? [];
    pageToken = page.next_page_token || undefined;
  } while (pageToken);
}

/** What tells a remote run changed: status, end, latest point per metric, params and tags. */
function signatureOf(run: RemoteRun): string {
  const sorted = <T extends { key: string }>(list: T[] | undefined) => [...(list ?? [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const metrics = sorted(run.data?.metrics).map((m) => [m.key, String(m.step ?? 0), String(m.timestamp ?? 0), String(m.value)]);
  const values = [...sorted(run.data?.params).map((p) => ['p', p.key, p.value]), ...sorted(run.data?.tags).map((t) => ['t', t.key, t.value])];
  return createHash('sha256')
    .update(JSON.stringify([run.info.status, String(run.info.end_time ?? ''), run.info.run_name ?? '', metrics, values]))
    .digest('hex');
}

async function pullRun(store: Store, client: MlflowClient, experiment: string, remote: RemoteRun, summary: PullSummary): Promise<PulledRun | undefined> {
  const remoteRunId = remote.info.run_id;
  const link = store.sync.byRemoteRunId(client.url, remoteRunId);
  const tags = Object.fromEntries((remote.data?.tags ?? []).map((t) => [t.key, t.value]));
  const source = tags[SOURCE_TAG] === undefined ? undefined : store.runByMlflowId(tags[SOURCE_TAG]);
  if (link?.origin === 'pushed' || (!link && source && store.sync.runRemote(source.id) === null)) {
    summary.ours++;
    return undefined;
  }
  const signature = signatureOf(remote);
  if (link && link.state === signature) {
    summary.unchanged++;
    return undefined;
  }
  const startedAt = remote.info.start_time === undefined ? undefined : mlflowNumber(remote.info.start_time);
  const endedAt = remote.info.end_time === undefined || remote.info.end_time === null ? null : mlflowNumber(remote.info.end_time);
  const name = remote.info.run_name || tags['mlflow.runName'] || remoteRunId;
  const author = remote.info.user_id || tags['mlflow.user'] || null;
  let run: Run;
  if (link) run = store.run(link.runId)!;
  else {
    run = store.createRun({
      experiment: remote.info.experiment_id === '0' ? DEFAULT_EXPERIMENT : experiment,
      name,
      status: 'running',
      host: new URL(client.url).host,
      // The remote id is this run's MLflow id too, unless a run here holds it already.
      ...(store.runByMlflowId(remoteRunId) ? {} : { mlflowId: remoteRunId }),
      ...(author ? { user: author } : {}),
      ...(startedAt !== undefined && Number.isFinite(startedAt) ? { createdAt: startedAt, startedAt } : {}),
    });
    store.sync.markPulled(run.id, client.url, remoteRunId, remote.info.experiment_id);
  }
  const points = await pullMetrics(store, client, run, remote);
  const artifacts = await listArtifacts(client, remoteRunId, '');
  store.transaction(() => {
    if (run.name !== name) store.renameRun(run.id, name);
    store.setParams(run.id, Object.fromEntries((remote.data?.params ?? []).map((p) => [p.key, p.value])));
    store.setTags(run.id, tags);
    const commit = tags['mlflow.source.git.commit'];
    if (commit) store.setCodeState(run.id, { commit, branch: tags['mlflow.source.git.branch'] ?? null, dirty: false, patch: null, patchTruncated: false });
    const parent = tags['mlflow.parentRunId'] && store.sync.byRemoteRunId(client.url, tags['mlflow.parentRunId']);
    if (parent && run.parentId !== parent.runId) store.setRunParent(run.id, parent.runId);
    const known = new Set(store.artifacts(run.id).map((a) => a.path));
    for (const file of artifacts) {
      const path = `artifacts/${file.path}`;
      // The sha256 is learnt when the file is fetched (fetchArtifact).
      if (!known.has(path)) store.addArtifact(run.id, { path, size: file.size, sha256: '', kind: artifactKind(path) });
    }
    store.setRunStatus(run.id, LOCAL_STATUS[remote.info.status ?? ''] ?? 'finished', endedAt);
    store.setRunTimes(run.id, { startedAt: startedAt ?? null, endedAt });
    store.sync.setState(run.id, client.url, signature);
  });
  return { id: run.id, remoteRunId, name, experiment: run.experiment, author, created: !link, points };
}

/** Full histories of the metrics whose latest point differs from what is stored here. */
async function pullMetrics(store: Store, client: MlflowClient, run: Run, remote: RemoteRun): Promise<number> {
  const local = store.summaries(run.id);
  const changed = (remote.data?.metrics ?? []).filter((latest) => {
    const have = local[latest.key];
    return !(have && have.lastStep === mlflowNumber(latest.step ?? 0) && Object.is(have.last, mlflowNumber(latest.value)));
  });
  let added = 0;
  // A server answers several histories at once (MLflow runs workers): a few in flight, each stored as it arrives.
  const queue = [...changed];
  const worker = async () => {
    for (let latest = queue.shift(); latest; latest = queue.shift()) {
      const points = await history(client, remote.info.run_id, latest.key);
      added += store.logMetrics(run.id, points);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HISTORY_REQUESTS, queue.length) }, worker));
  return added;
}

async function history(client: MlflowClient, runId: string, key: string): Promise<MetricPoint[]> {
  const points: MetricPoint[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.get<{ metrics?: RemoteMetric[]; next_page_token?: string }>('metrics/get-history', { run_id: runId, metric_key: key, max_results: HISTORY_PAGE, page_token: pageToken });
    for (const m of page.metrics ?? []) points.push({ key, step: mlflowNumber(m.step ?? 0), value: mlflowNumber(m.value), wall: mlflowNumber(m.timestamp ?? 0) });
    pageToken = page.next_page_token || undefined;
  } while (pageToken);
  return points;
}

interface RemoteFile {
  path: string;
  size: number;
}

async function listArtifacts(client: MlflowClient, runId: string, path: string): Promise<RemoteFile[]> {
  let answer: { files?: { path: string; is_dir?: boolean; file_size?: number | string }[] };
  try {
    answer = await client.get('artifacts/list', { run_id: runId, ...(path ? { path } : {}) });
  } catch (err) {
    // A server without an artifact store for the run lists nothing; the run's records still come.
    if (err instanceof RemoteError && err.failure === 'mlflow') return [];
    throw err;
  }
  const files: RemoteFile[] = [];
  for (const entry of answer.files ?? []) {
    if (entry.is_dir) files.push(...(await listArtifacts(client, runId, entry.path)));
    else files.push({ path: entry.path, size: Number(entry.file_size ?? 0) });
  }
  return files;
}

/**
 * Downloads one artifact of a pulled run into its folder (`.runboard/runs/<id>/artifacts/…`) and
 * records its sha256; a file fetched before is not fetched again. Returns the file's path.
 */
export async function fetchArtifact(store: Store, client: MlflowClient, runId: number, path: string): Promise<string> {
  const run = store.run(runId);
  const link = run && store.sync.link(runId, client.url);
  if (!run || link?.origin !== 'pulled') throw new UserError(`run ${runId} was not pulled from ${client.url}`);
  const artifact = store.artifacts(runId).find((a) => a.path === path);
  if (!artifact) throw new UserError(`run ${runId} (${run.name}) has no artifact ${path}`);
  const runDir = run.runDir ?? defaultRunDir(store.file, runId);
  const target = join(runDir, path);
  if (artifact.sha256 !== '' && run.runDir) return target;
  const info = await client.get<{ run: RemoteRun }>('runs/get', { run_id: link.remoteRunId! });
  const root = artifactRoot(info.run.info.artifact_uri ?? null);
  if (root === undefined) throw new UserError(`the MLflow server keeps run ${link.remoteRunId}'s artifacts at ${info.run.info.artifact_uri ?? '(nowhere)'}, not behind its artifact proxy`);
  const body = await client.getArtifact(`${root}/${path.replace(/^artifacts\//, '')}`);
  const data = dataDirOf(workspaceOf(store.file));
  ensureRealDir(data, dirname(target));
  const fd = openNoFollow(target);
  try {
    writeSync(fd, body);
  } finally {
    closeSync(fd);
  }
  store.transaction(() => {
    if (!run.runDir) store.setRunDir(runId, runDir);
    store.addArtifact(runId, { path, size: body.length, sha256: createHash('sha256').update(body).digest('hex'), kind: artifact.kind });
  });
  return target;
}
