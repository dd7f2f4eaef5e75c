import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../store/store.ts';
import { isTerminal, type Run } from '../store/types.ts';
import type { MlflowClient } from './client.ts';
import { pushRuns, type PushSummary } from './push.ts';

export interface WatchOptions {
  /** The runs to consider each round (only ended ones are pushed). */
  select: () => Run[];
  /** Between rounds while the server answers. */
  intervalMs: number;
  /** The longest wait after failures (the wait doubles from intervalMs up to this). */
  maxBackoffMs: number;
  signal: AbortSignal;
  onPushed?: (summary: PushSummary) => void;
  /** Called once per new failure line, not again while the same failure repeats. */
  onFailure?: (line: string, retryInMs: number) => void;
  onRecovered?: () => void;
}

/**
 * Pushes ended runs whenever the server answers, in its own loop over the database (capture never
 * waits for it): a failure waits longer each time, and the next round resumes what was sent.
 */
export async function watchPush(store: Store, client: MlflowClient, options: WatchOptions): Promise<void> {
  let wait = options.intervalMs;
  let failing: string | undefined;
  while (!options.signal.aborted) {
    const runs = options.select().filter((run) => isTerminal(run.status));
    const summary = await pushRuns(store, client, runs, { signal: options.signal });
    if (options.signal.aborted) break;
    if (summary.failure === undefined) {
      if (failing !== undefined) options.onRecovered?.();
      failing = undefined;
      wait = options.intervalMs;
      if (summary.sent.runs > 0) options.onPushed?.(summary);
    } else {
      wait = failing === undefined ? options.intervalMs : Math.min(wait * 2, options.maxBackoffMs);
      if (summary.failure !== failing) options.onFailure?.(summary.failure, wait);
      failing = summary.failure;
    }
    await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
