import type { RunEnd } from '../store/runs.ts';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';

/**
 * The launch side's run-state transitions. The Store applies each only while the run is still
 * active, so whichever of launcher, `runboard stop` and crash reconciliation ends a run first wins.
 */

/** Tag naming the process that launches a run (the CLI or the extension host); see reconcile.ts. */
export const LAUNCHER_TAG = 'runboard.launcher';
/** Tag marking a sweep's parent run; its value is the sweep plan as JSON. */
export const SWEEP_TAG = 'runboard.sweep';

/** queued → running; false when the run was ended meanwhile (stopped before it started). */
export const claimRun = (store: Store, runId: number): boolean => store.claimRun(runId);

export const setRunPid = (store: Store, runId: number, pid: number): void => store.setRunPid(runId, pid);

/** Records the stop signal sent to an active run; false once it ended. */
export const requestStop = (store: Store, runId: number, signal: NodeJS.Signals): boolean => store.requestStop(runId, signal);

/** Ends a run unless something else already did; true when this call decided its status. */
export const endRun = (store: Store, runId: number, end: RunEnd & { endedAt?: number }, onlyIfQueued = false): boolean =>
  store.markEndedIfActive(runId, end, onlyIfQueued);

/**
 * Ends the runs a script made under `parent` with MLflow (`start_run(nested=True)`) that were still
 * active when its process ended (a crash, a kill): nothing else would ever end them.
 */
export function endActiveChildren(store: Store, parent: Run): void {
  for (const child of store.runs({ parentId: parent.id })) {
    if (child.status !== 'running' && child.status !== 'queued') continue;
    endRun(store, child.id, { status: parent.status, error: `Its parent run ${parent.id} ended (${parent.status}) while it was still active` });
  }
}
