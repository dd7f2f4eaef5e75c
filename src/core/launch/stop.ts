import { hostname } from 'node:os';
import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { assertLocalRun } from '../sync/readOnly.ts';
import { isTerminal, type Run } from '../store/types.ts';
import { endRun, LAUNCHER_TAG, requestStop, SWEEP_TAG } from './lifecycle.ts';
import { groupExists, isGroupLeader, isSameProcess, signalGroup, signalProcess, sleep } from './process.ts';
import { DEFAULT_GRACE_MS } from './runner.ts';

export interface StopOptions {
  /** Time between SIGTERM and SIGKILL. */
  graceMs?: number;
  pollMs?: number;
  /** Why it was stopped, recorded as the run's error. */
  reason?: string;
}

export interface StopResult {
  run: Run;
  /** The run had ended before the stop (nothing was signalled). */
  alreadyEnded: boolean;
}

/** How long a live launcher gets to record the end itself, after its process is gone (it flushes output first). */
const LAUNCHER_WAIT_MS = 10_000;
const AFTER_KILL_WAIT_MS = 5_000;

/**
 * Stops a run from any process on its host: SIGTERM to its process group (pid from the store),
 * SIGKILL after the grace period, then `killed` with the last signal sent. The launcher, if
 * alive, records the same outcome; whichever writes first wins. A sweep's parent stops the sweep:
 * its queued children never start, its running children are stopped.
 */
export async function stopRun(store: Store, runId: number, options: StopOptions = {}): Promise<StopResult> {
  const run = store.run(runId);
  if (!run) throw new UserError(`No run ${runId}`);
  // A pulled run's status is its team server's: a teammate's live run is stopped where it runs.
  assertLocalRun(store, run);
  if (isTerminal(run.status)) return { run, alreadyEnded: true };
  if (run.host && run.host !== hostname()) throw new UserError(`Run ${run.id} runs on host ${run.host}: stop it there`);
  if (store.tags(run.id)[SWEEP_TAG] !== undefined) await stopSweep(store, run, options);
  else await stopProcess(store, run, options);
  return { run: store.run(run.id)!, alreadyEnded: false };
}

async function stopProcess(store: Store, run: Run, options: StopOptions): Promise<void> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const pollMs = options.pollMs ?? 100;
  const current = () => store.run(run.id)!;
  // Recorded first, so a launcher that is just spawning the process stops it at once.
  requestStop(store, run.id, 'SIGTERM');
  if (endRun(store, run.id, { status: 'killed', error: 'Stopped before it started' }, true)) return;

  // Between "claimed" and "spawned" a running run has no pid for a moment.
  await waitUntil(() => current().pid !== null || isTerminal(current().status), graceMs, pollMs);
  const { pid, startedAt, status } = current();
  if (isTerminal(status)) return;
  if (pid === null) {
    endRun(store, run.id, { status: 'killed', signal: 'SIGTERM', error: 'Stopped before its process was seen' });
    return;
  }
  let signal: NodeJS.Signals | null = null;
  const notAfter = startedAt ?? run.createdAt;
  if (isSameProcess(pid, notAfter)) {
    const group = isGroupLeader(pid);
    const send = (sig: NodeJS.Signals) => (group ? signalGroup(pid, sig) : signalProcess(pid, sig));
    const gone = () => (group ? !groupExists(pid) : !isSameProcess(pid, notAfter));
    signal = 'SIGTERM';
    send(signal);
    if (!(await waitUntil(gone, graceMs, pollMs))) {
      signal = 'SIGKILL';
      requestStop(store, run.id, signal);
      send(signal);
      await waitUntil(gone, AFTER_KILL_WAIT_MS, pollMs);
    }
  }
  if (launcherAlive(store, run)) await waitUntil(() => isTerminal(current().status), LAUNCHER_WAIT_MS, pollMs);
  endRun(
    store,
    run.id,
    signal
      ? { status: 'killed', signal, error: options.reason }
      : { status: 'crashed', error: `Its process (pid ${pid}) was already gone when asked to stop` },
  );
}

async function stopSweep(store: Store, parent: Run, options: StopOptions): Promise<void> {
  requestStop(store, parent.id, 'SIGTERM');
  for (const child of store.runs({ parentId: parent.id, status: 'queued' })) {
    endRun(store, child.id, { status: 'killed', error: 'The sweep was stopped before this run started' }, true);
  }
  // Children claimed a moment ago are running now, so this reads them after the queued ones are closed.
  await Promise.all(store.runs({ parentId: parent.id, status: 'running' }).map((child) => stopRun(store, child.id, options)));
  if (launcherAlive(store, parent)) await waitUntil(() => isTerminal(store.run(parent.id)!.status), LAUNCHER_WAIT_MS, options.pollMs ?? 100);
  endRun(store, parent.id, { status: 'killed', signal: 'SIGTERM' });
}

function launcherAlive(store: Store, run: Run): boolean {
  const launcher = Number(store.tags(run.id)[LAUNCHER_TAG]);
  return launcher > 0 && isSameProcess(launcher, run.createdAt);
}

/** Polls `condition` until it holds (true) or `timeoutMs` passes (false). */
async function waitUntil(condition: () => boolean, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}
