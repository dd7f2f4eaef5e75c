// No `vscode` import: how often views may refresh under load is policy, measured by the bench on
// plain Node (bench/refresh.bench.ts) and used by the editor's DatabaseChanges.
import { isEmptyChange, mergeChanges, type StoreChange } from './store/changes.ts';

/** The shortest time between two refreshes: at most 1000 / 400 = 2.5 a second, however fast runs write. */
export const REFRESH_INTERVAL_MS = 400;

/**
 * Coalesces changes for the views: the first change after a quiet spell is emitted at once
 * (leading), later ones within the interval are merged by union and emitted together when it
 * ends (trailing), so detail is never dropped and a burst costs at most one emission per
 * interval.
 */
export class ChangeCoalescer {
  private readonly emit: (change: StoreChange) => void;
  private readonly intervalMs: number;
  private pending: StoreChange | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(emit: (change: StoreChange) => void, intervalMs = REFRESH_INTERVAL_MS) {
    this.emit = emit;
    this.intervalMs = intervalMs;
  }

  push(next: StoreChange): void {
    if (this.disposed || isEmptyChange(next)) return;
    this.pending = this.pending ? mergeChanges(this.pending, next) : next;
    if (!this.timer) this.flush();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    const due = this.pending;
    this.pending = undefined;
    if (!due || this.disposed) {
      // A quiet interval: the next change is emitted at once again.
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    this.emit(due);
  }
}
