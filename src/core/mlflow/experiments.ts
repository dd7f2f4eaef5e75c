import { DEFAULT_EXPERIMENT } from '../store/runs.ts';
import type { Store } from '../store/store.ts';
import type { Experiment } from '../store/types.ts';
import { experimentOf, mlflowExperimentId } from './ids.ts';
import { API, MlflowError, requiredString, type MlflowContext, type MlflowReply, type MlflowRequest, type MlflowRoute } from './routes.ts';

/**
 * MLflow's experiment lifecycle over Runboard's experiments: delete (kept, restorable, its runs
 * deleted with it), restore (every run of it back, as MLflow does) and rename. Answers as MLflow
 * 2.12.2 with its SQL store answers, except that the Default experiment (id 0) can be neither
 * deleted nor renamed: Runboard launches without an experiment record there, and its id is 0 by
 * its name.
 */

const lifecycle = (experiment: Experiment): string => (experiment.deletedAt === null ? 'active' : 'deleted');

/** An experiment that may be written to: MLflow refuses runs and tags in a deleted one. */
export function activeExperiment(store: Store, experimentId: string): Experiment {
  const experiment = experimentOf(store, experimentId);
  if (experiment.deletedAt !== null) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `The experiment ${mlflowExperimentId(experiment)} must be in the 'active' state. Current state is deleted.`);
  }
  return experiment;
}

/** The experiment in the lifecycle stage an endpoint needs; another stage reads as missing, as in MLflow. */
function experimentIn(store: Store, experimentId: string, stage: 'active' | 'deleted'): Experiment {
  const experiment = experimentOf(store, experimentId);
  if (lifecycle(experiment) !== stage) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
  return experiment;
}

function refuseDefault(experiment: Experiment, action: string): void {
  if (experiment.name === DEFAULT_EXPERIMENT) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Cannot ${action} the default experiment '0'. This is an internally reserved experiment.`);
  }
}

function deleteExperiment(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const experiment = experimentIn(store, requiredString(request, 'experiment_id'), 'active');
  refuseDefault(experiment, 'delete');
  store.experimentRecords.setDeleted(experiment.id, Date.now());
  return { json: {} };
}

function restoreExperiment(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const experiment = experimentIn(store, requiredString(request, 'experiment_id'), 'deleted');
  store.experimentRecords.setDeleted(experiment.id, null);
  return { json: {} };
}

function updateExperiment(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const experimentId = requiredString(request, 'experiment_id');
  const newName = requiredString(request, 'new_name');
  const experiment = experimentOf(store, experimentId);
  if (experiment.deletedAt !== null) throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.');
  if (newName === experiment.name) return { json: {} };
  refuseDefault(experiment, 'rename');
  // "Default" is taken even before its row exists: the id 0 goes with that name.
  if (newName === DEFAULT_EXPERIMENT || store.experimentByName(newName)) throw new MlflowError('BAD_REQUEST', `Experiment(name=${newName}) already exists.`);
  store.experimentRecords.rename(experiment.id, newName);
  return { json: {} };
}

export const experimentRoutes: readonly MlflowRoute[] = [
  { method: 'POST', path: `${API}/experiments/delete`, handle: deleteExperiment },
  { method: 'POST', path: `${API}/experiments/restore`, handle: restoreExperiment },
  { method: 'POST', path: `${API}/experiments/update`, handle: updateExperiment },
];
