import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import { readOnlyReason } from '../sync/readOnly.ts';
import { MlflowError } from './routes.ts';

/**
 * A run an MLflow client may change: not one pulled from a team server. The refusal is MLflow's
 * INVALID_STATE (the run's state forbids the write), answered 400: MLflow's own status for that
 * code is 500, which its clients retry for about a minute before giving up.
 */
export function writableRun(store: Store, run: Run): Run {
  const reason = readOnlyReason(store, run, `The run ${run.mlflowId}`);
  if (reason !== undefined) throw new MlflowError('INVALID_STATE', `${reason}.`, 400);
  return run;
}
