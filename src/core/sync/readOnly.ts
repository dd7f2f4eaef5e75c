import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';

/**
 * Why a run may not be changed here, or undefined when it may: a run pulled from a remote is a
 * copy of a teammate's run, which only its own server changes (a change here would be overwritten
 * by the next pull, and never reach the team). `pull` itself writes through the store directly.
 * `subject` names the run as the reader knows it (the MLflow face names it by its MLflow id).
 */
export function readOnlyReason(store: Store, run: Run, subject = `run ${run.id} (${run.name})`): string | undefined {
  const remote = store.sync.runRemote(run.id);
  if (remote === null) return undefined;
  return `${subject} was pulled from ${remote}${run.user ? ` (author ${run.user})` : ''}: it is read-only here; change it on the team server`;
}

/** The one guard of every path that changes a run (stop, capture, the MLflow face): refuses a pulled run. */
export function assertLocalRun(store: Store, run: Run): void {
  const reason = readOnlyReason(store, run);
  if (reason !== undefined) throw new UserError(reason);
}
