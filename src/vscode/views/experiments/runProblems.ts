// What went wrong in a run, for its tree item and tooltip. Plain Node (no `vscode`): unit-tested.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { firstNonFinite } from '../../../core/compare/nonfinite.ts';
import { describeNonFinite } from '../../../core/compare/constants.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Run } from '../../../core/store/types.ts';
import { LOG_FILES } from '../../../core/tracking/runFolder.ts';

/** The tail of stderr read for a failed run's tooltip: enough for a Python traceback's last lines. */
const TAIL_BYTES = 4096;
const TAIL_LINES = 3;

/**
 * Why a failed or crashed run failed: its recorded error, else the last lines of its stderr (a
 * script that raises exits 1 and leaves its traceback there, with no error recorded).
 */
export function failureText(run: Run): string | undefined {
  if (run.error) return run.error;
  if ((run.status !== 'failed' && run.status !== 'crashed') || !run.runDir) return undefined;
  let fd: number;
  try {
    fd = openSync(join(run.runDir, LOG_FILES.stderr), 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, TAIL_BYTES));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    const lines = buffer.toString('utf8').split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
    return lines.length ? lines.slice(-TAIL_LINES).join('\n') : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Each metric of the run that went NaN or ±Infinity: `loss went NaN at step 15`. */
export function nonFiniteNotes(store: Store, runId: number): string[] {
  return Object.entries(store.summaries(runId))
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([metric, summary]) => {
      const point = firstNonFinite(store, runId, metric, summary);
      return point ? [describeNonFinite(metric, point)] : [];
    });
}
