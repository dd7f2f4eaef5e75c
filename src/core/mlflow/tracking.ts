import type { Store } from '../store/store.ts';
import type { Experiment, Run, RunStatus } from '../store/types.ts';
import { experimentArtifactLocation, experimentOf, mlflowExperimentId, runArtifactUri, runOf } from './ids.ts';
import { API, MlflowError, requiredString, runIdField, type MlflowRequest, type MlflowRoute } from './routes.ts';

/** MLflow's run statuses and Runboard's: a crash is a failure to MLflow, and SCHEDULED is queued. */
const STATUS_TO_MLFLOW: Record<RunStatus, string> = {
  queued: 'SCHEDULED',
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  crashed: 'FAILED',
  killed: 'KILLED',
};
const STATUS_FROM_MLFLOW: Record<string, RunStatus> = { SCHEDULED: 'queued', RUNNING: 'running', FINISHED: 'finished', FAILED: 'failed', KILLED: 'killed' };

export function mlflowExperiment(store: Store, experiment: Experiment): Record<string, unknown> {
  const tags = Object.entries(store.experimentTags(experiment.id)).map(([key, value]) => ({ key, value }));
  return {
    experiment_id: mlflowExperimentId(experiment),
    name: experiment.name,
    artifact_location: experimentArtifactLocation(experiment),
    lifecycle_stage: 'active',
    last_update_time: experiment.createdAt,
    creation_time: experiment.createdAt,
    ...(tags.length ? { tags } : {}),
  };
}

export function mlflowRunInfo(run: Run): Record<string, unknown> {
  const start = run.startedAt ?? run.createdAt;
  return {
    run_uuid: run.mlflowId,
    experiment_id: mlflowExperimentId({ id: run.experimentId, name: run.experiment }),
    run_name: run.name,
    user_id: run.user ?? '',
    status: STATUS_TO_MLFLOW[run.status],
    start_time: start,
    ...(run.endedAt !== null ? { end_time: run.endedAt } : {}),
    artifact_uri: runArtifactUri(run),
    lifecycle_stage: run.deletedAt === null ? 'active' : 'deleted',
    run_id: run.mlflowId,
  };
}

function experimentGetByName(request: MlflowRequest, { store }: { store: Store }) {
  const name = requiredString(request, 'experiment_name');
  const experiment = store.experimentByName(name);
  if (!experiment) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
  return { json: { experiment: mlflowExperiment(store, experiment) } };
}

export const trackingRoutes: MlflowRoute[] = [
  { method: 'GET', path: `${API}/experiments/get-by-name`, handle: experimentGetByName },
  {
    method: 'GET',
    path: `${API}/experiments/get`,
    handle: (request, { store }) => ({ json: { experiment: mlflowExperiment(store, experimentOf(store, requiredString(request, 'experiment_id'))) } }),
  },
  {
    method: 'GET',
    path: `${API}/runs/get`,
    handle: (request, { store }) => ({ json: { run: { info: mlflowRunInfo(runOf(store, runIdField(request))), data: {}, inputs: {} } } }),
  },
];

export { STATUS_FROM_MLFLOW };
