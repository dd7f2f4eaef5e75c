import { lstatSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { isTerminal, type Run } from '../store/types.ts';
import { workspaceOf } from '../workspace.ts';

export interface DeletedRun {
  run: Run;
  /** What became of its output folder; `kept` says why in `note`. */
  folder: 'removed' | 'absent' | 'kept';
  note?: string;
  /** The remote a pulled run came from: only its local copy was forgotten. */
  pulledFrom?: string;
}

/**
 * Why a run's folder must not be removed, or undefined when it may: only a real folder directly in
 * the workspace's `.runboard/runs/`, reached through no symlink (a cloned repository can ship a
 * link from there to anywhere). A folder elsewhere (an import from outside, a profile's `outputs`)
 * belongs to the user.
 */
function keepReason(dbPath: string, runDir: string): string | undefined {
  const dataDir = join(workspaceOf(dbPath), '.runboard');
  const runsDir = join(dataDir, 'runs');
  const rel = relative(runsDir, resolve(runDir));
  if (rel === '' || rel.startsWith('..') || rel.includes(sep)) return `it is not in ${runsDir}`;
  for (const dir of [dataDir, runsDir, runDir]) {
    if (lstatSync(dir).isSymbolicLink()) return `${dir} is a symbolic link`;
  }
  if (!lstatSync(runDir).isDirectory()) return 'it is not a folder';
  return undefined;
}

/**
 * Refuses, before anything changes, to delete runs that are live here: stop them first. A pulled
 * run is never live here, whatever its status (a teammate's run still running on their machine):
 * deleting it only forgets the local copy (and the next pull brings it back while the team server
 * has it), which is also the one way to drop a copy of a run its server deleted since.
 */
export function assertDeletable(store: Store, runs: readonly Run[]): void {
  const live = runs.filter((r) => !isTerminal(r.status) && store.sync.runRemote(r.id) === null);
  if (live.length) {
    throw new UserError(`Stop ${live.map((r) => `run ${r.id} (${r.name}, ${r.status})`).join(', ')} before deleting ${live.length === 1 ? 'it' : 'them'}; nothing was deleted.`);
  }
}

/**
 * Deletes runs from the database (metrics, params, lineage) and removes their output folders.
 * Live runs are refused before anything changes (assertDeletable).
 */
export function deleteRuns(store: Store, dbPath: string, runs: readonly Run[]): DeletedRun[] {
  assertDeletable(store, runs);
  return runs.map((run) => {
    const remote = store.sync.runRemote(run.id);
    const pulled = remote === null ? {} : { pulledFrom: remote };
    store.deleteRun(run.id);
    if (run.runDir === null || lstatSync(run.runDir, { throwIfNoEntry: false }) === undefined) return { run, folder: 'absent', ...pulled };
    const note = keepReason(dbPath, run.runDir);
    if (note !== undefined) return { run, folder: 'kept', note, ...pulled };
    rmSync(run.runDir, { recursive: true });
    return { run, folder: 'removed', ...pulled };
  });
}
