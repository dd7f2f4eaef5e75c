import { parseOrderBy, parseRunFilter, RunFilterSyntaxError, type RunFilterAst, type RunOrderKey } from '../../shared/runFilter.ts';
import type { Store } from '../store/store.ts';
import { isTerminal, type Experiment, type Run, type RunStatus } from '../store/types.ts';
import { activeExperiment } from './experiments.ts';
import { experimentArtifactLocation, experimentOf, mlflowExperimentId, runArtifactUri, runOf } from './ids.ts';
import { decodePageToken, encodePageToken, maxResults } from './paging.ts';
import { writableRun } from './readOnly.ts';
import { API, MlflowError, optionalString, requiredString, runIdField, type MlflowContext, type MlflowReply, type MlflowRequest, type MlflowRoute } from './routes.ts';
import {
  batchLimit,
  intLike,
  MAX_ENTITIES_PER_BATCH,
  MAX_METRICS_PER_BATCH,
  MAX_PARAMS_TAGS_PER_BATCH,
  pyRepr,
  validateExperimentTag,
  validateMetric,
  validateName,
  validateParam,
  validateTag,
  type MetricInput,
} from './validation.ts';

/** MLflow's run statuses and Runboard's: a crash is a failure to MLflow, and SCHEDULED is queued. */
const STATUS_TO_MLFLOW: Record<RunStatus, string> = {
  queued: 'SCHEDULED',
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  crashed: 'FAILED',
  killed: 'KILLED',
};
// Protobuf's JSON may name an enum by its number.
const STATUS_FROM_MLFLOW: Record<string, RunStatus> = {
  RUNNING: 'running', SCHEDULED: 'queued', FINISHED: 'finished', FAILED: 'failed', KILLED: 'killed',
  1: 'running', 2: 'queued', 3: 'finished', 4: 'failed', 5: 'killed',
};

/** MLflow's tags that are Runboard fields: stored there, and read back as tags. */
export const RUN_NAME_TAG = 'mlflow.runName';
export const USER_TAG = 'mlflow.user';
export const PARENT_TAG = 'mlflow.parentRunId';
export const GIT_COMMIT_TAG = 'mlflow.source.git.commit';

export function mlflowExperiment(store: Store, experiment: Experiment): Record<string, unknown> {
  const tags = keyValues(store.experimentTags(experiment.id));
  return {
    experiment_id: mlflowExperimentId(experiment),
    name: experiment.name,
    artifact_location: experimentArtifactLocation(experiment),
    lifecycle_stage: experiment.deletedAt === null ? 'active' : 'deleted',
    last_update_time: experiment.updatedAt,
    creation_time: experiment.createdAt,
    ...(tags.length ? { tags } : {}),
  };
}

export function mlflowRunInfo(run: Run): Record<string, unknown> {
  return {
    run_uuid: run.mlflowId,
    experiment_id: mlflowExperimentId({ id: run.experimentId, name: run.experiment }),
    run_name: run.name,
    user_id: run.user ?? '',
    status: STATUS_TO_MLFLOW[run.status],
    start_time: run.startedAt ?? run.createdAt,
    ...(run.endedAt !== null ? { end_time: run.endedAt } : {}),
    artifact_uri: runArtifactUri(run),
    lifecycle_stage: run.deletedAt === null ? 'active' : 'deleted',
    run_id: run.mlflowId,
  };
}

/** A run as MLflow sends it: info, latest metrics, params and tags (Runboard's fields among them). */
export function mlflowRun(store: Store, run: Run): Record<string, unknown> {
  const metrics = Object.entries(store.summaries(run.id)).map(([key, s]) => ({ key, value: s.last, timestamp: s.lastWall, step: s.lastStep }));
  const params = keyValues(store.params(run.id));
  const tags = keyValues({ ...store.tags(run.id), ...fieldTags(store, run) });
  return {
    info: mlflowRunInfo(run),
    data: { ...(metrics.length ? { metrics } : {}), ...(params.length ? { params } : {}), ...(tags.length ? { tags } : {}) },
    inputs: {},
  };
}

function fieldTags(store: Store, run: Run): Record<string, string> {
  const tags: Record<string, string> = { [RUN_NAME_TAG]: run.name };
  if (run.user !== null) tags[USER_TAG] = run.user;
  const parent = run.parentId === null ? undefined : store.run(run.parentId);
  if (parent) tags[PARENT_TAG] = parent.mlflowId;
  const commit = store.codeState(run.id)?.commit;
  if (commit) tags[GIT_COMMIT_TAG] = commit;
  return tags;
}

const keyValues = (record: Record<string, string>): { key: string; value: string }[] => Object.entries(record).map(([key, value]) => ({ key, value }));

/** A run that may still be written: MLflow refuses writes to a deleted run, Runboard to a pulled one. */
function activeRun(store: Store, runId: string): Run {
  const run = runOf(store, runId);
  if (run.deletedAt !== null) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `The run ${run.mlflowId} must be in the 'active' state. Current state is deleted.`);
  }
  return writableRun(store, run);
}

function listField(request: MlflowRequest, name: string): unknown[] {
  const value = request.fields[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(value)} for parameter '${name}' supplied. Hint: Value was of type '${typeof value}'. See the API docs for more information about request parameters.`);
  }
  return value;
}

const entries = (request: MlflowRequest, name: string): Record<string, unknown>[] =>
  listField(request, name).map((item) => (item !== null && typeof item === 'object' ? (item as Record<string, unknown>) : {}));

function required(value: unknown, name: string): void {
  if (value === undefined || value === null || value === '') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
  }
}

/**
 * Tags on a run: MLflow's own that are Runboard fields go there (name, user, parent, commit); the
 * rest are tags. Call inside a transaction.
 */
function applyTags(store: Store, run: Run, tags: readonly { key: string; value: string }[]): void {
  const plain: Record<string, string> = {};
  for (const { key, value } of tags) {
    if (key === RUN_NAME_TAG) store.renameRun(run.id, value);
    else if (key === USER_TAG) store.setRunUser(run.id, value);
    else if (key === GIT_COMMIT_TAG) setCommit(store, run.id, value);
    else if (key === PARENT_TAG && setParent(store, run, value)) continue;
    else plain[key] = value;
  }
  if (Object.keys(plain).length) store.setTags(run.id, plain);
}

/** True when the parent is a run of this store; else the tag is kept as a plain tag. */
function setParent(store: Store, run: Run, parentMlflowId: string): boolean {
  const parent = store.runByMlflowId(parentMlflowId);
  if (!parent || parent.id === run.id) return false;
  if (run.parentId !== parent.id) store.setRunParent(run.id, parent.id);
  return true;
}

function setCommit(store: Store, runId: number, commit: string): void {
  const code = store.codeState(runId);
  if (code?.commit === commit) return;
  store.setCodeState(runId, { commit, branch: code?.branch ?? null, dirty: code?.dirty ?? false, patch: code?.patch ?? null, patchTruncated: code?.patchTruncated ?? false });
}

/** MLflow never changes a logged param: the same value again is fine, another is refused. */
function changedParams(store: Store, run: Run, params: readonly { key: string; value: string }[]): { key: string; old: string; value: string }[] {
  const existing = store.params(run.id);
  return params.filter((p) => existing[p.key] !== undefined && existing[p.key] !== p.value).map((p) => ({ key: p.key, old: existing[p.key]!, value: p.value }));
}

function logMetrics(store: Store, run: Run, metrics: readonly MetricInput[]): void {
  store.logMetrics(run.id, metrics.map((m) => ({ key: m.key, step: m.step, value: m.value, wall: m.timestamp })));
}

type Handler = (request: MlflowRequest, context: MlflowContext) => MlflowReply;

// ── experiments ──────────────────────────────────────────────────────────────

const getExperimentByName: Handler = (request, { store }) => {
  const name = requiredString(request, 'experiment_name');
  const experiment = store.experimentByName(name);
  if (!experiment) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
  return { json: { experiment: mlflowExperiment(store, experiment) } };
};

const getExperiment: Handler = (request, { store }) => ({
  json: { experiment: mlflowExperiment(store, experimentOf(store, requiredString(request, 'experiment_id'))) },
});

const createExperiment: Handler = (request, { store }) => {
  const name = requiredString(request, 'name');
  const tags = entries(request, 'tags').map(validateExperimentTag);
  if (store.experimentByName(name)) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${name}) already exists.`);
  const id = store.transaction(() => {
    const id = store.experimentId(name);
    for (const tag of tags) store.setExperimentTag(id, tag.key, tag.value);
    return id;
  });
  return { json: { experiment_id: mlflowExperimentId({ id, name }) } };
};

const setExperimentTag: Handler = (request, { store }) => {
  const experiment = activeExperiment(store, requiredString(request, 'experiment_id'));
  required(request.fields.key, 'key');
  const tag = validateExperimentTag(request.fields);
  store.setExperimentTag(experiment.id, tag.key, tag.value);
  return { json: {} };
};

/** Which lifecycle stages a view type selects. */
function viewType(value: unknown): 'active' | 'deleted' | 'all' {
  if (value === undefined || value === null || value === 'ACTIVE_ONLY' || value === 1 || value === '1') return 'active';
  if (value === 'DELETED_ONLY' || value === 2 || value === '2') return 'deleted';
  if (value === 'ALL' || value === 3 || value === '3') return 'all';
  throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid view type: ${JSON.stringify(value)}. Use ACTIVE_ONLY, DELETED_ONLY or ALL.`);
}

const searchExperiments: Handler = (request, { store }) => {
  const limit = maxResults(request.fields.max_results, 1000, 50000, 'Invalid value for max_results. It must be a positive integer,');
  const offset = decodePageToken(optionalString(request, 'page_token'));
  const filter = optionalString(request, 'filter') ?? '';
  const view = viewType(request.fields.view_type);
  const experiments = experimentsMatching(store, filter).filter((e) => view === 'all' || (view === 'deleted') === (e.deletedAt !== null));
  // MLflow's default order: newest first, the id breaking ties.
  experiments.sort((a, b) => b.createdAt - a.createdAt || a.id - b.id);
  const page = experiments.slice(offset, offset + limit);
  return {
    json: {
      ...(page.length ? { experiments: page.map((e) => mlflowExperiment(store, e)) } : {}),
      ...(offset + limit < experiments.length ? { next_page_token: encodePageToken(offset + limit) } : {}),
    },
  };
};

/** The experiment filters clients send: `name = '…'`, `name LIKE '…'`/ILIKE, joined with AND. */
function experimentsMatching(store: Store, filter: string): Experiment[] {
  const conditions = filter.trim() === '' ? [] : filter.split(/\s+and\s+/i).map(experimentCondition);
  return store.experimentList().filter((e) => conditions.every((test) => test(e)));
}

function experimentCondition(text: string): (e: Experiment) => boolean {
  const match = /^\s*(?:attributes?\.)?(name|`name`)\s*(=|!=|LIKE|ILIKE)\s*(['"])(.*)\3\s*$/is.exec(text);
  if (!match) throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid experiment filter '${text.trim()}': Runboard supports name =, !=, LIKE and ILIKE.`);
  const op = match[2]!.toUpperCase();
  const value = match[4]!;
  if (op === '=') return (e) => e.name === value;
  if (op === '!=') return (e) => e.name !== value;
  const pattern = new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'is' : 's');
  return (e) => pattern.test(e.name);
}

// ── runs ─────────────────────────────────────────────────────────────────────

const createRun: Handler = (request, { store }) => {
  const experiment = activeExperiment(store, optionalString(request, 'experiment_id') || '0');
  const tags = entries(request, 'tags').map(validateTag);
  const runName = optionalString(request, 'run_name') || undefined;
  const nameTag = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
  if (runName && nameTag && runName !== nameTag) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${runName}', mlflow.runName='${nameTag}').`,
    );
  }
  const startTime = request.fields.start_time === undefined ? undefined : intLike(request.fields.start_time);
  const user = optionalString(request, 'user_id') || tags.find((t) => t.key === USER_TAG)?.value;
  const now = Date.now();
  const run = store.transaction(() => {
    const created = store.createRun({
      experiment: experiment.name,
      status: 'running',
      createdAt: startTime ?? now,
      startedAt: startTime ?? now,
      ...(runName || nameTag ? { name: runName ?? nameTag } : {}),
      ...(user ? { user } : {}),
    });
    applyTags(store, created, tags.filter((t) => t.key !== RUN_NAME_TAG && t.key !== USER_TAG));
    return store.run(created.id)!;
  });
  return { json: { run: mlflowRun(store, run) } };
};

const getRun: Handler = (request, { store }) => ({ json: { run: mlflowRun(store, runOf(store, runIdField(request))) } });

const updateRun: Handler = (request, { store }) => {
  const run = activeRun(store, runIdField(request));
  const statusField = request.fields.status ?? undefined;
  const status = statusField === undefined ? undefined : STATUS_FROM_MLFLOW[String(statusField)];
  if (statusField !== undefined && status === undefined) throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid run status: '${String(statusField)}'`);
  const endTime = request.fields.end_time === undefined || request.fields.end_time === null ? undefined : intLike(request.fields.end_time);
  const runName = optionalString(request, 'run_name');
  store.transaction(() => {
    if (runName) store.renameRun(run.id, runName);
    // A run Runboard launched ends when its process does: the launcher records how (exit code,
    // signal), so the client's own end_run() does not decide it.
    const launched = run.pid !== null && !isTerminal(run.status);
    if (status !== undefined && !launched) store.setRunStatus(run.id, status, isTerminal(status) ? (endTime ?? run.endedAt ?? Date.now()) : (endTime ?? null));
  });
  return { json: { run_info: mlflowRunInfo(store.run(run.id)!) } };
};

const deleteRun: Handler = (request, { store }) => {
  store.softDeleteRun(writableRun(store, runOf(store, requiredString(request, 'run_id'))).id);
  return { json: {} };
};

const restoreRun: Handler = (request, { store }) => {
  store.restoreRun(writableRun(store, runOf(store, requiredString(request, 'run_id'))).id);
  return { json: {} };
};

const logMetric: Handler = (request, { store }) => {
  const runId = runIdField(request);
  required(request.fields.key, 'key');
  required(request.fields.value, 'value');
  required(request.fields.timestamp, 'timestamp');
  const metric = validateMetric(request.fields);
  logMetrics(store, activeRun(store, runId), [metric]);
  return { json: {} };
};

const logParameter: Handler = (request, { store }) => {
  const runId = runIdField(request);
  required(request.fields.key, 'key');
  const param = validateParam(request.fields);
  const run = activeRun(store, runId);
  const [changed] = changedParams(store, run, [param]);
  if (changed) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Changing param values is not allowed. Param with key='${changed.key}' was already logged with value='${changed.old}' for run ID='${run.mlflowId}'. Attempted logging new value '${changed.value}'.`,
    );
  }
  store.setParams(run.id, { [param.key]: param.value });
  return { json: {} };
};

const setTag: Handler = (request, { store }) => {
  const runId = runIdField(request);
  required(request.fields.key, 'key');
  const tag = validateTag(request.fields);
  const run = activeRun(store, runId);
  store.transaction(() => applyTags(store, run, [tag]));
  return { json: {} };
};

const deleteTag: Handler = (request, { store }) => {
  const run = activeRun(store, runIdField(request));
  const key = requiredString(request, 'key');
  if (!store.deleteTag(run.id, key)) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${key} in run with id ${run.mlflowId}`);
  return { json: {} };
};

const logBatch: Handler = (request, { store }) => {
  const runId = runIdField(request);
  const rawMetrics = entries(request, 'metrics');
  const rawParams = entries(request, 'params');
  const rawTags = entries(request, 'tags');
  for (const m of rawMetrics) for (const field of ['key', 'value', 'timestamp']) required(m[field], 'metrics');
  for (const p of rawParams) required(p.key, 'params');
  for (const t of rawTags) required(t.key, 'tags');
  const metrics = rawMetrics.map(validateMetric);
  const params = rawParams.map(validateParam);
  const tags = rawTags.map(validateTag);
  batchLimit('metrics', MAX_METRICS_PER_BATCH, metrics.length);
  batchLimit('params', MAX_PARAMS_TAGS_PER_BATCH, params.length);
  batchLimit('tags', MAX_PARAMS_TAGS_PER_BATCH, tags.length);
  batchLimit('metrics, params, and tags', MAX_ENTITIES_PER_BATCH, metrics.length + params.length + tags.length);
  const keys = params.map((p) => p.key);
  const dupes = keys.filter((key, i) => keys.indexOf(key) !== i);
  if (dupes.length) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Duplicate parameter keys have been submitted: [${dupes.map(pyRepr).join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  }
  const run = activeRun(store, runId);
  const changed = changedParams(store, run, params);
  if (changed.length) {
    const list = changed.map((c) => `{'key': ${pyRepr(c.key)}, 'old_value': ${pyRepr(c.old)}, 'new_value': ${pyRepr(c.value)}}`).join(', ');
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Changing param values is not allowed. Params were already logged='[${list}]' for run ID='${run.mlflowId}'.`);
  }
  // One transaction: one change event, and nothing of a batch that fails is kept.
  store.transaction(() => {
    if (params.length) store.setParams(run.id, Object.fromEntries(params.map((p) => [p.key, p.value])));
    if (metrics.length) logMetrics(store, run, metrics);
    if (tags.length) applyTags(store, run, tags);
  });
  return { json: {} };
};

/** MLflow's experiment ids as Runboard's; one that names no experiment selects nothing, as in MLflow. */
function experimentIdsOf(store: Store, ids: readonly unknown[]): number[] {
  return ids.flatMap((id) => {
    try {
      return [experimentOf(store, String(id)).id];
    } catch {
      return [];
    }
  });
}

const searchRuns: Handler = (request, { store }) => {
  const experimentIds = experimentIdsOf(store, listField(request, 'experiment_ids'));
  const limit = maxResults(request.fields.max_results, 1000, 50000, 'Invalid value for request parameter max_results. It must be a positive integer,');
  const offset = decodePageToken(optionalString(request, 'page_token'));
  const lifecycle = viewType(request.fields.run_view_type);
  const orderBy = listField(request, 'order_by').map(String);
  const filter = optionalString(request, 'filter') ?? '';
  // One more than the page: whether another page follows is known, not guessed.
  const runs = store.searchRuns({ experimentIds, lifecycle, ...searchFilter(filter, orderBy), limit: limit + 1, offset });
  const page = runs.slice(0, limit);
  return {
    json: {
      ...(page.length ? { runs: page.map((run) => mlflowRun(store, run)) } : {}),
      ...(runs.length > limit ? { next_page_token: encodePageToken(offset + limit) } : {}),
    },
  };
};

/** MLflow's filter and order_by, read as its server reads them (`strict: 'mlflow'`). */
function searchFilter(filter: string, orderBy: readonly string[]): { filter?: RunFilterAst; order: RunOrderKey[] } {
  try {
    return { ...(filter.trim() ? { filter: parseRunFilter(filter, { strict: 'mlflow' }) } : {}), order: parseOrderBy(orderBy, { strict: 'mlflow' }) };
  } catch (err) {
    if (err instanceof RunFilterSyntaxError) throw new MlflowError('INVALID_PARAMETER_VALUE', err.message);
    throw err;
  }
}

const getMetricHistory: Handler = (request, { store }) => {
  const run = runOf(store, runIdField(request));
  const key = requiredString(request, 'metric_key');
  validateName('metric', key);
  const offset = decodePageToken(optionalString(request, 'page_token'));
  const points = store.series(run.id, key);
  const limit = request.fields.max_results === undefined ? points.length : maxResults(request.fields.max_results, points.length, Number.MAX_SAFE_INTEGER, 'Invalid value for max_results. It must be a positive integer,');
  const page = points.slice(offset, offset + limit);
  return {
    json: {
      ...(page.length ? { metrics: page.map((p) => ({ key, value: p.value, timestamp: p.wall, step: p.step })) } : {}),
      ...(offset + limit < points.length ? { next_page_token: encodePageToken(offset + limit) } : {}),
    },
  };
};

export const trackingRoutes: MlflowRoute[] = [
  { method: 'GET', path: `${API}/experiments/get-by-name`, handle: getExperimentByName },
  { method: 'GET', path: `${API}/experiments/get`, handle: getExperiment },
  { method: 'POST', path: `${API}/experiments/create`, handle: createExperiment },
  { method: 'POST', path: `${API}/experiments/search`, handle: searchExperiments },
  { method: 'GET', path: `${API}/experiments/search`, handle: searchExperiments },
  { method: 'POST', path: `${API}/experiments/set-experiment-tag`, handle: setExperimentTag },
  { method: 'POST', path: `${API}/runs/create`, handle: createRun },
  { method: 'GET', path: `${API}/runs/get`, handle: getRun },
  { method: 'POST', path: `${API}/runs/update`, handle: updateRun },
  { method: 'POST', path: `${API}/runs/delete`, handle: deleteRun },
  { method: 'POST', path: `${API}/runs/restore`, handle: restoreRun },
  { method: 'POST', path: `${API}/runs/log-metric`, handle: logMetric },
  { method: 'POST', path: `${API}/runs/log-parameter`, handle: logParameter },
  { method: 'POST', path: `${API}/runs/set-tag`, handle: setTag },
  { method: 'POST', path: `${API}/runs/delete-tag`, handle: deleteTag },
  { method: 'POST', path: `${API}/runs/log-batch`, handle: logBatch },
  { method: 'POST', path: `${API}/runs/search`, handle: searchRuns },
  { method: 'GET', path: `${API}/metrics/get-history`, handle: getMetricHistory },
];
