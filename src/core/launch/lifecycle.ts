import type { RunEnd, Store } from '../store/store.ts';

/**
 * Conditional run-state transitions. A run can be ended by its launcher, by `runboard stop` in
 * another process, or by crash reconciliation, in any order: each update applies only while the
 * run is still active, so the first terminal status wins and later ones are no-ops.
 */

/** Tag naming the process that launches a run (the CLI or the extension host); see reconcile.ts. */
export const LAUNCHER_TAG = 'runboard.launcher';
/** Tag marking a sweep's parent run; its value is the sweep plan as JSON. */
export const SWEEP_TAG = 'runboard.sweep';

const ACTIVE = `status IN ('queued', 'running')`;

function changed(store: Store, runId: number, changes: number): boolean {
  if (changes > 0) store.notify({ kind: 'run', runId });
  return changes > 0;
}

/** queued → running; false when the run was ended meanwhile (stopped before it started). */
export function claimRun(store: Store, runId: number): boolean {
  const result = store.db.prepare(`UPDATE runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'`).run(Date.now(), runId);
  return changed(store, runId, result.changes);
}

export function setRunPid(store: Store, runId: number, pid: number): void {
  const result = store.db.prepare(`UPDATE runs SET pid = ? WHERE id = ? AND status = 'running'`).run(pid, runId);
  changed(store, runId, result.changes);
}

/**
 * Records that a stop was asked for, with the signal sent. On an active run the `signal` column
 * means exactly that, so a launcher in another process learns that an exit after SIGTERM (even
 * exit code 0 from a script that handles it) is a kill, not a finish.
 */
export function requestStop(store: Store, runId: number, signal: NodeJS.Signals): boolean {
  const result = store.db.prepare(`UPDATE runs SET signal = ? WHERE id = ? AND ${ACTIVE}`).run(signal, runId);
  return changed(store, runId, result.changes);
}

/**
 * Ends a run unless something else already did; true when this call decided its status.
 * `onlyIfQueued` ends it only if it has not been claimed to start.
 */
export function endRun(store: Store, runId: number, end: RunEnd & { endedAt?: number }, onlyIfQueued = false): boolean {
  const condition = onlyIfQueued ? `status = 'queued'` : ACTIVE;
  const result = store.db
    .prepare(`UPDATE runs SET status = ?, exit_code = ?, signal = ?, error = ?, ended_at = ?, pid = NULL WHERE id = ? AND ${condition}`)
    .run(end.status, end.exitCode ?? null, end.signal ?? null, end.error ?? null, end.endedAt ?? Date.now(), runId);
  return changed(store, runId, result.changes);
}
