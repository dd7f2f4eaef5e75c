import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import { parseCaptureSettings, RunCapture } from '../tracking/capture.ts';
import { endActiveChildren, endRun, LAUNCHER_TAG } from './lifecycle.ts';
import { isSameProcess } from './process.ts';
import { stopRun } from './stop.ts';

/** SIGTERM to SIGKILL for a training process whose recorder died: it has had no reader for a while already. */
const ORPHAN_GRACE_MS = 3_000;

export interface Reconciled {
  /** Runs this call ended. */
  ended: Run[];
  /** Captures that could not be resumed, one line each. */
  problems: string[];
}

/**
 * Settles what dead processes of this host left behind, for any command and the editor:
 * 1. a training process whose recorder (the CLI or editor that launched and captured it) died
 *    is stopped (SIGTERM, then SIGKILL) and its run recorded `killed`: nothing captures its
 *    output any more, and "the recorder died" means "the run is over" to its user;
 * 2. runs whose process died unseen are marked `crashed` (reconcileCrashed);
 * 3. every capture whose recorder died is resumed from its checkpoints, so the database ends
 *    holding exactly the metric lines of the logs.
 */
export async function reconcile(store: Store, graceMs = ORPHAN_GRACE_MS): Promise<Reconciled> {
  const ended = await stopOrphans(store, graceMs);
  ended.push(...reconcileCrashed(store));
  // What an MLflow client made under a run (nested runs, no process of their own) ends with it.
  for (const run of ended) endActiveChildren(store, run);
  return { ended, problems: await resumeCaptures(store) };
}

/**
 * Marks as `crashed` the runs of this host that were left active by a process that is gone: the
 * training process died unseen (its pid is gone, or now belongs to a program started later) and
 * no live launcher is left to record how it ended. Every recorded point is kept.
 *
 * - A run whose launcher (the CLI or extension host that started it) is alive is left alone: the
 *   launcher records the real exit once it has flushed the output.
 * - A queued run whose launcher is gone never will start (a sweep's CLI was killed).
 * - A run from another host, or one without any pid to check, cannot be judged here.
 * - A live process is left to `reconcile`, which stops it when its launcher is gone.
 *
 * Returns the runs it marked.
 */
export function reconcileCrashed(store: Store): Run[] {
  const crashed: Run[] = [];
  for (const run of activeHere(store)) {
    const launcher = launcherOf(store, run);
    if (launcher !== null && isSameProcess(launcher, run.createdAt)) continue;
    let error: string;
    if (run.pid !== null) {
      if (isSameProcess(run.pid, run.startedAt ?? run.createdAt)) continue;
      error =
        launcher === null
          ? `Its process (pid ${run.pid}) ended without Runboard seeing how`
          : `Its recorder (pid ${launcher}) died while it ran, and its process (pid ${run.pid}) ended unseen`;
    } else if (launcher !== null) {
      error = run.status === 'queued' ? `Its launcher (pid ${launcher}) exited before it started` : `Its launcher (pid ${launcher}) exited while it ran`;
    } else {
      continue;
    }
    if (endRun(store, run.id, { status: 'crashed', error, endedAt: lastSign(store, run) })) crashed.push(store.run(run.id)!);
  }
  return crashed;
}

/** Stops the live processes of runs whose launcher died (see reconcile). */
async function stopOrphans(store: Store, graceMs: number): Promise<Run[]> {
  const stopped: Run[] = [];
  for (const run of activeHere(store)) {
    const launcher = launcherOf(store, run);
    if (launcher === null || run.pid === null || isSameProcess(launcher, run.createdAt) || !isSameProcess(run.pid, run.startedAt ?? run.createdAt)) continue;
    const reason = `Its recorder (pid ${launcher}) died while it ran; its process was stopped, since nothing captured its output any more`;
    const { run: ended, alreadyEnded } = await stopRun(store, run.id, { graceMs, reason });
    if (!alreadyEnded && ended.error === reason) stopped.push(ended);
  }
  return stopped;
}

/** Resumes, from its checkpoints, every capture whose recorder is gone; returns what could not be read. */
async function resumeCaptures(store: Store): Promise<string[]> {
  const problems: string[] = [];
  const host = hostname();
  for (const open of store.ingest.open()) {
    if (isSameProcess(open.recorder.pid, open.recorder.since)) continue;
    const run = store.run(open.runId);
    if (!run?.runDir || (run.host !== null && run.host !== host)) continue;
    if (!store.ingest.takeOver(run.id, open.recorder, { pid: process.pid, since: Date.now() })) continue;
    const capture = new RunCapture(store, {
      runId: run.id,
      runDir: run.runDir,
      ...parseCaptureSettings(open.settings),
      watch: false,
      resume: store.ingest.checkpoints(run.id),
    });
    try {
      await capture.close();
    } catch (err) {
      problems.push(`run ${run.id} (${run.name}): its logs could not all be read again: ${(err as Error).message}`);
    }
  }
  return problems;
}

function activeHere(store: Store): Run[] {
  const host = hostname();
  return [...store.runs({ status: 'running' }), ...store.runs({ status: 'queued' })].filter((r) => r.host === null || r.host === host);
}

const launcherOf = (store: Store, run: Run): number | null => Number(store.tags(run.id)[LAUNCHER_TAG]) || null;

/** When a dead run was last seen alive: its newest point or log write, else now. */
function lastSign(store: Store, run: Run): number {
  let last = 0;
  for (const summary of Object.values(store.summaries(run.id))) last = Math.max(last, summary.lastWall);
  for (const log of ['stdout.log', 'stderr.log']) {
    try {
      if (run.runDir) last = Math.max(last, statSync(join(run.runDir, log)).mtimeMs);
    } catch {
      // No such log: the run wrote nothing there.
    }
  }
  return last > 0 ? Math.max(Math.trunc(last), run.startedAt ?? run.createdAt) : Date.now();
}
