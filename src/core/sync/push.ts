import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import { change } from '../store/changes.ts';
import type { Store } from '../store/store.ts';
import type { SyncLink } from '../store/sync.ts';
import type { Run, RunStatus } from '../store/types.ts';
import { workspaceOf } from '../workspace.ts';
import { mlflowNumber, RemoteError, type MlflowClient } from './client.ts';
import { RemoteExperiments } from './experiments.ts';

/** MLflow's limits per log-batch request (mlflow/utils/validation.py). */
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;

/** Set on every pushed run: finds a run whose creation was sent by a push that died before recording it. */
export const SOURCE_TAG = 'runboard.run';
export const PATCH_ARTIFACT = 'runboard/uncommitted.patch';
/** Where a registered version's stored copy goes among its run's artifacts. */
export const MODELS_FOLDER = 'runboard/models';

const MLFLOW_STATUS: Record<RunStatus, string> = {
  queued: 'SCHEDULED',
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  killed: 'KILLED',
  crashed: 'FAILED',
};

export interface PushedRun {
  id: number;
  name: string;
  remoteRunId: string;
  created: boolean;
  params: number;
  tags: number;
  points: number;
  artifacts: number;
  inputs: number;
  models: number;
}

export interface PushSummary {
  remote: string;
  runs: PushedRun[];
  /** Totals over the runs. */
  sent: { runs: number; params: number; tags: number; points: number; artifacts: number; inputs: number; models: number };
  /** One line per thing left out (an artifact file gone from disk, a server that cannot take artifacts). */
  problems: string[];
  /** Why the push stopped before the end (the server failed, refused, or the push was cancelled). */
  failure?: string;
}

export interface PushProgress {
  run: Run;
  index: number;
  total: number;
  /** Points sent so far in this push. */
  points: number;
}

export interface PushOptions {
  onProgress?: (progress: PushProgress) => void;
  /** Checked between requests: a cancelled push stops there, everything sent so far recorded. */
  signal?: AbortSignal;
}

export interface RunSelection {
  all?: boolean;
  runs?: readonly string[];
  experiment?: string;
}

/** The runs a push sends: recorded here (never pulled ones), not deleted, parents before children. */
export function selectRuns(store: Store, selection: RunSelection): Run[] {
  const own = (run: Run) => run.deletedAt === null && store.sync.runRemote(run.id) === null;
  let chosen: Run[];
  if (selection.runs?.length) chosen = selection.runs.map((ref) => store.resolveRun(ref));
  else if (selection.experiment !== undefined) {
    if (!store.experimentByName(selection.experiment)) throw new UserError(`no experiment "${selection.experiment}" in ${store.file}`);
    chosen = store.runs({ experiment: selection.experiment });
  } else if (selection.all) chosen = store.runs();
  else throw new UserError('say what to push: --all, --experiment NAME, or run ids or names');
  if (selection.runs?.length) for (const run of chosen) if (store.sync.runRemote(run.id) !== null) throw new UserError(`run ${run.id} (${run.name}) was pulled from ${store.sync.runRemote(run.id)}; only runs recorded here are pushed`);
  const byId = new Map<number, Run>();
  const add = (run: Run) => {
    if (byId.has(run.id) || !own(run)) return;
    const parent = run.parentId === null ? undefined : store.run(run.parentId);
    if (parent) add(parent);
    byId.set(run.id, run);
  };
  for (const run of [...chosen].sort((a, b) => a.id - b.id)) add(run);
  return [...byId.values()];
}

/**
 * Sends runs to an MLflow server: experiment, run, params and tags, every metric point, inputs,
 * artifacts, the uncommitted patch, then the status. What each answered request delivered is
 * recorded at once, so a second push sends only what is new, and a push that died resumes with
 * nothing sent twice (a metric batch whose answer was lost is settled by asking the server).
 */
export async function pushRuns(store: Store, client: MlflowClient, runs: readonly Run[], options: PushOptions = {}): Promise<PushSummary> {
  const summary: PushSummary = { remote: client.url, runs: [], sent: { runs: 0, params: 0, tags: 0, points: 0, artifacts: 0, inputs: 0, models: 0 }, problems: [] };
  const pusher = new RunPusher(store, client, summary, options);
  try {
    for (const [index, run] of runs.entries()) await pusher.push(run, index, runs.length);
  } catch (err) {
    // What was sent is recorded: the summary says how far the push got, and the next one resumes there.
    if (!(err instanceof UserError)) throw err;
    summary.failure = err.message;
  }
  return summary;
}

class RunPusher {
  private readonly store: Store;
  private readonly client: MlflowClient;
  private readonly remote: string;
  private readonly summary: PushSummary;
  private readonly options: PushOptions;
  private readonly experiments: RemoteExperiments;

  constructor(store: Store, client: MlflowClient, summary: PushSummary, options: PushOptions) {
    this.store = store;
    this.client = client;
    this.remote = client.url;
    this.summary = summary;
    this.options = options;
    this.experiments = new RemoteExperiments(client);
  }

  async push(run: Run, index: number, total: number): Promise<void> {
    const progress = () => this.options.onProgress?.({ run, index, total, points: this.summary.sent.points + pushed.points });
    const pushed: PushedRun = { id: run.id, name: run.name, remoteRunId: '', created: false, params: 0, tags: 0, points: 0, artifacts: 0, inputs: 0, models: 0 };
    progress();
    try {
      const link = await this.remoteRun(run, pushed);
      pushed.remoteRunId = link.remoteRunId!;
      await this.sendParamsAndTags(run, link, pushed);
      await this.sendMetrics(run, link, pushed, progress);
      await this.sendInputs(run, link, pushed);
      await this.sendArtifacts(run, link, pushed);
      await this.sendModelVersions(run, link, pushed);
      await this.sendStatus(run, link);
      progress();
    } finally {
      this.count(pushed);
    }
  }

  private count(pushed: PushedRun): void {
    const { summary } = this;
    if (!pushed.created && pushed.params + pushed.tags + pushed.points + pushed.artifacts + pushed.inputs + pushed.models === 0) return;
    // The run's sync badge changed (views listen for runs that changed).
    this.store.notify(change({ runs: [pushed.id] }));
    summary.runs.push(pushed);
    summary.sent.runs++;
    for (const key of ['params', 'tags', 'points', 'artifacts', 'inputs', 'models'] as const) summary.sent[key] += pushed[key];
  }

  private checkCancelled(): void {
    if (this.options.signal?.aborted) throw new UserError('push cancelled; what was sent is recorded and the next push resumes');
  }

  /** The run on the remote: recorded, found by its tag after a push that died creating it, or created. */
  private async remoteRun(run: Run, pushed: PushedRun): Promise<SyncLink> {
    const sync = this.store.sync;
    const known = sync.link(run.id, this.remote);
    if (known?.remoteRunId) return known;
    this.checkCancelled();
    const experimentId = await this.experiments.idOf(run.experiment);
    if (!known) sync.begin(run.id, this.remote, 'pushed');
    // Pushed before under another spelling of the URL, from a restored database, or by a push that
    // died between the server's answer and recording it: the run is there, with its tag.
    const found = await this.findByTag(experimentId, run.mlflowId);
    if (found) {
      sync.setRemoteRun(run.id, this.remote, found);
      // What it holds is unknown here: its metrics are settled by asking before any is sent.
      sync.setUncertain(run.id, this.remote, true);
      return sync.link(run.id, this.remote)!;
    }
    const created = await this.client.post<{ run: { info: { run_id: string; artifact_uri?: string } } }>(
      'runs/create',
      {
        experiment_id: experimentId,
        run_name: run.name,
        start_time: run.startedAt ?? run.createdAt,
        ...(run.user ? { user_id: run.user } : {}),
        tags: [{ key: SOURCE_TAG, value: run.mlflowId }],
      },
      { idempotent: false },
    );
    sync.setRemoteRun(run.id, this.remote, { remoteRunId: created.run.info.run_id, remoteExperimentId: experimentId, artifactUri: created.run.info.artifact_uri ?? null });
    sync.markSent(run.id, this.remote, 'tag', [[SOURCE_TAG, run.mlflowId]]);
    pushed.created = true;
    return sync.link(run.id, this.remote)!;
  }

  private async findByTag(experimentId: string, mlflowId: string) {
    const answer = await this.client.post<{ runs?: { info: { run_id: string; artifact_uri?: string } }[] }>('runs/search', {
      experiment_ids: [experimentId],
      filter: `tags.\`${SOURCE_TAG}\` = '${mlflowId}'`,
      max_results: 1,
    });
    const info = answer.runs?.[0]?.info;
    return info && { remoteRunId: info.run_id, remoteExperimentId: experimentId, artifactUri: info.artifact_uri ?? null };
  }

  /** Tags as MLflow names Runboard's fields, then the run's own tags. */
  private tagsOf(run: Run): Record<string, string> {
    const tags: Record<string, string> = { 'mlflow.runName': run.name, [SOURCE_TAG]: run.mlflowId };
    if (run.user) tags['mlflow.user'] = run.user;
    const parent = run.parentId === null ? undefined : this.store.sync.link(run.parentId, this.remote)?.remoteRunId;
    if (parent) tags['mlflow.parentRunId'] = parent;
    const code = this.store.codeState(run.id);
    if (code?.commit) tags['mlflow.source.git.commit'] = code.commit;
    if (code?.branch) tags['mlflow.source.git.branch'] = code.branch;
    if (run.command.length) tags['mlflow.source.name'] = run.command.join(' ');
    return { ...tags, ...this.store.tags(run.id) };
  }

  private async sendParamsAndTags(run: Run, link: SyncLink, pushed: PushedRun): Promise<void> {
    const sync = this.store.sync;
    const unsent = (kind: 'param' | 'tag', values: Record<string, string>) => {
      const sent = sync.sent(run.id, this.remote, kind);
      return Object.entries(values).filter(([key, value]) => sent.get(key) !== value);
    };
    const params = unsent('param', this.store.params(run.id));
    const tags = unsent('tag', this.tagsOf(run));
    const items = [...params.map((p) => ['param', p] as const), ...tags.map((t) => ['tag', t] as const)];
    for (let i = 0; i < items.length; i += MAX_PARAMS_TAGS_PER_BATCH) {
      this.checkCancelled();
      const chunk = items.slice(i, i + MAX_PARAMS_TAGS_PER_BATCH);
      const ofKind = (kind: 'param' | 'tag') => chunk.filter(([k]) => k === kind).map(([, entry]) => entry);
      // Params and tags are set, not added: sending one again changes nothing.
      await this.client.post('runs/log-batch', {
        run_id: link.remoteRunId,
        params: ofKind('param').map(([key, value]) => ({ key, value })),
        tags: ofKind('tag').map(([key, value]) => ({ key, value })),
      });
      this.store.transaction(() => {
        sync.markSent(run.id, this.remote, 'param', ofKind('param'));
        sync.markSent(run.id, this.remote, 'tag', ofKind('tag'));
      });
      pushed.params += ofKind('param').length;
      pushed.tags += ofKind('tag').length;
    }
  }

  private async sendMetrics(run: Run, link: SyncLink, pushed: PushedRun, progress: () => void): Promise<void> {
    const sync = this.store.sync;
    if (link.uncertain) await this.settle(run, link);
    const sent = sync.sent(run.id, this.remote, 'metric');
    const cursors = new Map<string, number>();
    for (const [key, summary] of Object.entries(this.store.summaries(run.id))) {
      const last = sent.has(key) ? Number(sent.get(key)) : -Infinity;
      if (summary.lastStep > last) cursors.set(key, last);
    }
    if (cursors.size === 0) return;
    sync.setUncertain(run.id, this.remote, true);
    const keys = [...cursors.keys()].sort();
    let keyIndex = 0;
    while (keyIndex < keys.length) {
      this.checkCancelled();
      const batch: { key: string; value: number; timestamp: number; step: number }[] = [];
      const lastSteps = new Map<string, number>();
      while (batch.length < MAX_METRICS_PER_BATCH && keyIndex < keys.length) {
        const key = keys[keyIndex]!;
        const after = cursors.get(key)!;
        const points = sync.pointsAfter(run.id, key, Number.isFinite(after) ? after : Number.MIN_SAFE_INTEGER, MAX_METRICS_PER_BATCH - batch.length);
        for (const [step, wall, value] of points) batch.push({ key, value: value ?? NaN, timestamp: wall, step });
        if (points.length === 0) keyIndex++;
        else {
          const last = points[points.length - 1]![0];
          cursors.set(key, last);
          lastSteps.set(key, last);
        }
      }
      if (batch.length === 0) break;
      await this.client.post('runs/log-batch', { run_id: link.remoteRunId, metrics: batch }, { idempotent: false });
      sync.markSent(run.id, this.remote, 'metric', [...lastSteps].map(([key, step]) => [key, String(step)] as const));
      pushed.points += batch.length;
      progress();
    }
    sync.setUncertain(run.id, this.remote, false);
  }

  /**
   * After a push that died with a metric batch in flight: the server's latest step per key is the
   * last one it stored (points go out in step order), so sending resumes after it.
   */
  private async settle(run: Run, link: SyncLink): Promise<void> {
    const answer = await this.client.get<{ run: { data?: { metrics?: { key: string; step?: number | string }[] } } }>('runs/get', { run_id: link.remoteRunId! });
    const sent = this.store.sync.sent(run.id, this.remote, 'metric');
    const arrived = (answer.run.data?.metrics ?? [])
      .map((m) => [m.key, mlflowNumber(m.step ?? 0)] as const)
      .filter(([key, step]) => !sent.has(key) || step > Number(sent.get(key)));
    this.store.sync.markSent(run.id, this.remote, 'metric', arrived.map(([key, step]) => [key, String(step)] as const), true);
  }

  private async sendInputs(run: Run, link: SyncLink, pushed: PushedRun): Promise<void> {
    const sent = this.store.sync.sent(run.id, this.remote, 'input');
    const inputs = this.store.inputs(run.id).filter((input) => sent.get(input.fingerprint) !== input.path);
    if (inputs.length === 0) return;
    this.checkCancelled();
    await this.client.post('runs/log-inputs', {
      run_id: link.remoteRunId,
      datasets: inputs.map((input) => ({
        // MLflow keeps at most 36 characters of a digest.
        dataset: { name: basename(input.path), digest: input.fingerprint.slice(0, 36), source_type: 'local', source: JSON.stringify({ uri: input.path }), profile: JSON.stringify({ file_nbytes: input.size }) },
      })),
    });
    this.store.sync.markSent(run.id, this.remote, 'input', inputs.map((input) => [input.fingerprint, input.path] as const));
    pushed.inputs += inputs.length;
  }

  private async sendArtifacts(run: Run, link: SyncLink, pushed: PushedRun): Promise<void> {
    const sent = this.store.sync.sent(run.id, this.remote, 'artifact');
    const files: { path: string; sha256: string; read: () => Buffer }[] = this.store
      .artifacts(run.id)
      .filter(() => run.runDir !== null)
      .map((a) => ({ path: remoteArtifactPath(a.path), sha256: a.sha256, read: () => readNoFollow(join(run.runDir!, a.path)) }));
    const patch = this.store.codeState(run.id)?.patch;
    if (patch) files.push({ path: PATCH_ARTIFACT, sha256: createHash('sha256').update(patch).digest('hex'), read: () => Buffer.from(patch) });
    const unsent = files.filter((f) => sent.get(f.path) !== f.sha256);
    if (unsent.length === 0) return;
    const root = artifactRoot(link.artifactUri);
    if (root === undefined) {
      this.summary.problems.push(`run ${run.id} (${run.name}): ${unsent.length} artifact${unsent.length === 1 ? '' : 's'} not sent: the server keeps artifacts at ${link.artifactUri ?? '(none)'}, not behind its artifact proxy (start it with --serve-artifacts)`);
      return;
    }
    for (const file of unsent) {
      this.checkCancelled();
      let body: Buffer;
      try {
        body = file.read();
      } catch (err) {
        this.summary.problems.push(`run ${run.id} (${run.name}): artifact ${file.path} not sent: ${(err as Error).message}`);
        continue;
      }
      await this.client.putArtifact(`${root}/${file.path}`, body);
      this.store.sync.markSent(run.id, this.remote, 'artifact', [[file.path, file.sha256]]);
      pushed.artifacts++;
    }
  }

  /**
   * The run's registered versions: the stored copy uploaded beside the run's artifacts, the
   * version created from it (found again by its source after a push that died creating it), then
   * the aliases pointing at it. Remote version numbers are the remote's own.
   */
  private async sendModelVersions(run: Run, link: SyncLink, pushed: PushedRun): Promise<void> {
    const sync = this.store.sync;
    // Oldest first, so a remote with no versions yet numbers them as here.
    const versions = this.store.models.list().filter((v) => v.runId === run.id).sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
    if (versions.length === 0) return;
    const root = artifactRoot(link.artifactUri);
    const workspace = workspaceOf(this.store.file);
    let sentVersions = sync.sent(run.id, this.remote, 'model');
    for (const version of versions) {
      const key = `${version.name}/${version.version}`;
      if (sentVersions.has(key)) continue;
      this.checkCancelled();
      if (root === undefined) {
        this.summary.problems.push(`run ${run.id} (${run.name}): model ${version.name} version ${version.version} not sent: the server keeps artifacts at ${link.artifactUri ?? '(none)'}, not behind its artifact proxy`);
        continue;
      }
      const stored = resolve(workspace, version.storedPath);
      const { files, single } = filesOf(stored);
      const folder = `${MODELS_FOLDER}/${version.name}/${version.version}`;
      for (const file of files) await this.client.putArtifact(`${root}/${folder}/${file.rel}`, readNoFollow(file.path));
      // A single file is the version's source itself; a model folder (MLmodel…) is the folder.
      const source = `${link.artifactUri}/${folder}${single ? `/${files[0]!.rel}` : ''}`;
      const remoteVersion = (await this.findVersion(version.name, link.remoteRunId!, source)) ?? (await this.createVersion(version.name, link.remoteRunId!, source));
      sync.markSent(run.id, this.remote, 'model', [[key, remoteVersion]]);
      pushed.models++;
    }
    sentVersions = sync.sent(run.id, this.remote, 'model');
    const sentAliases = sync.sent(run.id, this.remote, 'alias');
    for (const version of versions) {
      const remoteVersion = sentVersions.get(`${version.name}/${version.version}`);
      if (remoteVersion === undefined) continue;
      for (const alias of version.aliases) {
        const key = `${version.name}@${alias}`;
        if (sentAliases.get(key) === String(version.version)) continue;
        this.checkCancelled();
        await this.client.post('registered-models/alias', { name: version.name, alias, version: remoteVersion });
        sync.markSent(run.id, this.remote, 'alias', [[key, String(version.version)]]);
      }
    }
  }

  private async findVersion(name: string, remoteRunId: string, source: string): Promise<string | undefined> {
    const answer = await this.client.get<{ model_versions?: { version: string; source: string; name: string }[] }>('model-versions/search', { filter: `run_id = '${remoteRunId}'`, max_results: 1000 });
    return answer.model_versions?.find((v) => v.name === name && v.source === source)?.version;
  }

  private async createVersion(name: string, remoteRunId: string, source: string): Promise<string> {
    try {
      await this.client.post('registered-models/create', { name });
    } catch (err) {
      if (!(err instanceof RemoteError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    const created = await this.client.post<{ model_version: { version: string | number } }>('model-versions/create', { name, source, run_id: remoteRunId }, { idempotent: false });
    return String(created.model_version.version);
  }

  /** Status, end and name, when they changed since last sent; a running run is sent as running. */
  private async sendStatus(run: Run, link: SyncLink): Promise<void> {
    const state = JSON.stringify([run.status, run.endedAt, run.name]);
    if (link.state === state) return;
    this.checkCancelled();
    await this.client.post('runs/update', {
      run_id: link.remoteRunId,
      status: MLFLOW_STATUS[run.status],
      run_name: run.name,
      ...(run.endedAt !== null ? { end_time: run.endedAt } : {}),
    });
    this.store.sync.setState(run.id, this.remote, state);
  }
}

/** Files of a stored model version: the file itself, or every file below its folder (relative, posix). */
function filesOf(stored: string): { files: { rel: string; path: string }[]; single: boolean } {
  const stat = lstatSync(stored, { throwIfNoEntry: false });
  if (!stat) throw new UserError(`the stored copy of a registered version is missing: ${stored}`);
  if (!stat.isDirectory()) return { files: [{ rel: basename(stored), path: stored }], single: true };
  const files = (readdirSync(stored, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ rel: relative(stored, path).split(sep).join('/'), path }))
    .sort((a, b) => (a.rel < b.rel ? -1 : 1));
  return { files, single: false };
}

/** A Runboard artifact path in MLflow's tree: `artifacts/x` is what an MLflow client logged as `x`. */
export const remoteArtifactPath = (path: string): string => path.replace(/^artifacts\//, '');

/** The path below the artifact proxy of a run's `mlflow-artifacts:` URI; undefined for any other store. */
export function artifactRoot(uri: string | null): string | undefined {
  const match = uri === null ? null : /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(uri);
  return match ? match[1]!.replace(/\/+$/, '') : undefined;
}

function readNoFollow(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path} is gone` : code === 'ELOOP' ? `${path} is a symbolic link` : (err as Error).message);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
