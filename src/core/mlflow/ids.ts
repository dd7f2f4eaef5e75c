import { DEFAULT_EXPERIMENT } from '../store/runs.ts';
import type { Store } from '../store/store.ts';
import type { Experiment, Run } from '../store/types.ts';
import { MlflowError } from './routes.ts';

// MLflow's default experiment has id "0"; Runboard's is the experiment named DEFAULT_EXPERIMENT,
// so a client that never calls set_experiment logs where a Runboard launch without one does.
const DEFAULT_EXPERIMENT_ID = '0';

/** The experiment id an MLflow client sees. */
export function mlflowExperimentId(experiment: Pick<Experiment, 'id' | 'name'>): string {
  return experiment.name === DEFAULT_EXPERIMENT ? DEFAULT_EXPERIMENT_ID : String(experiment.id);
}

/** The experiment of an MLflow experiment id; RESOURCE_DOES_NOT_EXIST as MLflow words it. */
export function experimentOf(store: Store, experimentId: string): Experiment {
  if (experimentId === DEFAULT_EXPERIMENT_ID) return store.experiment(store.experimentId(DEFAULT_EXPERIMENT))!;
  const experiment = /^[1-9]\d{0,15}$/.test(experimentId) ? store.experiment(Number(experimentId)) : undefined;
  if (!experiment) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
  return experiment;
}

/** The run of an MLflow run id (deleted runs included, as MLflow's get does). */
export function runOf(store: Store, runId: string): Run {
  const run = /^[0-9a-f]{32}$/.test(runId) ? store.runByMlflowId(runId) : undefined;
  if (!run) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
  return run;
}

/** Where an experiment's artifacts live, as a proxied-artifacts MLflow server names it. */
export const experimentArtifactLocation = (experiment: Pick<Experiment, 'id' | 'name'>): string => `mlflow-artifacts:/${mlflowExperimentId(experiment)}`;

/** A run's artifact root: `mlflow-artifacts:/<experiment>/<run>/artifacts`. */
export const runArtifactUri = (run: Pick<Run, 'experimentId' | 'experiment' | 'mlflowId'>): string =>
  `${experimentArtifactLocation({ id: run.experimentId, name: run.experiment })}/${run.mlflowId}/artifacts`;
