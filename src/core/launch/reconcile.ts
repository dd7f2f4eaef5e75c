import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import { endRun, LAUNCHER_TAG } from './lifecycle.ts';
import { isSameProcess } from './process.ts';

/**
 * Marks as `crashed` the runs of this host that were left active by a process that is gone: the
 * training process died unseen (its pid is gone, or now belongs to a program started later) and
 * no live launcher is left to record how it ended. Every recorded point is kept.
 *
 * - A run whose launcher (the CLI or extension host that started it) is alive is left alone: the
 *   launcher records the real exit once it has flushed the output.
 * - A queued run whose launcher is gone never will start (a sweep's CLI was killed).
 * - A run from another host, or one without any pid to check, cannot be judged here.
 *
 * Returns the runs it marked.
 */
export function reconcileCrashed(store: Store): Run[] {
  const host = hostname();
  const active = [...store.runs({ status: 'running' }), ...store.runs({ status: 'queued' })].filter((r) => r.host === null || r.host === host);
  const crashed: Run[] = [];
  for (const run of active) {
    const launcher = Number(store.tags(run.id)[LAUNCHER_TAG]) || null;
    if (launcher !== null && isSameProcess(launcher, run.createdAt)) continue;
    let error: string;
    if (run.pid !== null) {
      if (isSameProcess(run.pid, run.startedAt ?? run.createdAt)) continue;
      error = `Its process (pid ${run.pid}) ended without Runboard seeing how`;
    } else if (launcher !== null) {
      error = run.status === 'queued' ? `Its launcher (pid ${launcher}) exited before it started` : `Its launcher (pid ${launcher}) exited while it ran`;
    } else {
      continue;
    }
    if (endRun(store, run.id, { status: 'crashed', error, endedAt: lastSign(store, run) })) crashed.push(store.run(run.id)!);
  }
  return crashed;
}

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
