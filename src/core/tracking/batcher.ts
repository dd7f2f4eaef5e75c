import { storageProblem } from '../errors.ts';
import type { IngestCheckpoint } from '../store/ingest.ts';
import type { Store } from '../store/store.ts';
import type { MetricPoint } from '../store/types.ts';

/**
 * When two sources give the same metric key, the higher one owns it and the lower one's points
 * for it are dropped, so a series never mixes two step schemes. The client's explicit steps win;
 * console lines beat files (Hugging Face prints log dicts live with counted steps, while its
 * trainer_state.json appears only at checkpoints, with global steps).
 */
export const FILE_PRIORITY = 1;
export const CONSOLE_PRIORITY = 2;
export const CLIENT_PRIORITY = 3;
export type SourcePriority = typeof FILE_PRIORITY | typeof CONSOLE_PRIORITY | typeof CLIENT_PRIORITY;
/** MLflow's client, whose points the tracking server stores itself: claiming a key only silences capture's sources. */
export const MLFLOW_PRIORITY = 4;

const FLUSH_INTERVAL_MS = 100;
const FLUSH_POINTS = 10_000;
/** Points kept in memory while the store refuses writes (a full disk); past this, capture fails. */
const MAX_UNSAVED_POINTS = 2_000_000;
const RETRY_INTERVAL_MS = 1000;
/** How many flushes console points may wait for the client's file to be read (see flush). */
const MAX_DEFERRALS = 20;
const MAX_DEFERRED_POINTS = 500_000;

export interface MetricBatcherOptions {
  store: Store;
  runId: number;
  /**
   * Called at every flush, before the points are written: writes the console logs, the
   * write-ahead record of their points. False while some of their bytes wait for the disk.
   */
  beforeFlush: () => boolean;
  /** Each source's checkpoint, committed with the points read up to it. */
  checkpoints: () => ReadonlyMap<string, IngestCheckpoint>;
  /**
   * Called while console points wait: true when the client's file has unread records, whose
   * reading the callee has started. The client writes its record before the script prints the
   * same value, so waiting lets the client claim its keys before console points for them are stored.
   */
  clientFileUnread: () => boolean;
  /** An error of a flush that ran from a timer. */
  onError: (err: unknown) => void;
}

/**
 * Collects the points of every source and writes them in one store transaction per flush (every
 * 100 ms, or at 10,000 points), with each source's checkpoint, and only once the console bytes
 * they were read from are in the logs. A batch the store refuses for a passing reason (a full disk, a
 * lock) is kept, within a bound, and written with the next flush: nothing is lost.
 */
export class MetricBatcher {
  private readonly options: MetricBatcherOptions;
  /** Points waiting for the next flush, by source priority. */
  private readonly pending: MetricPoint[][] = [[], [], [], []];
  private pendingCount = 0;
  private pendingMalformed = 0;
  private unsaved: MetricPoint[] = [];
  private unsavedMalformed = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly owner = new Map<string, number>();
  /** Per priority: whether some of its keys are owned by another source, so its points need filtering. */
  private readonly contested = [false, false, false, false];
  private deferrals = 0;
  private takeReaderCounts: (() => ReadonlyMap<string, number>) | undefined;
  /** Reader counts of a batch the store refused, written with it when it is retried. */
  private unsavedReaderCounts = new Map<string, number>();
  /** Where the points of replayed lines go (see replay). */
  private replayed: MetricPoint[] | undefined;

  constructor(options: MetricBatcherOptions) {
    this.options = options;
  }

  /** The array a source of this priority pushes its points into; report them with `added`. */
  points(priority: SourcePriority): MetricPoint[] {
    return this.replayed ?? this.pending[priority]!;
  }

  added(count: number): void {
    if (!this.replayed) this.pendingCount += count;
  }

  malformed(): void {
    if (!this.replayed) this.pendingMalformed++;
  }

  /**
   * Reads a line whose points were stored before the capture was resumed, for the state it sets
   * up in the readers: its points, malformed count and reader count are dropped.
   */
  replay(read: () => void): void {
    this.keepReaderCounts(this.unsavedReaderCounts);
    this.replayed = [];
    try {
      read();
    } finally {
      this.replayed = undefined;
      this.takeReaderCounts?.();
    }
  }

  /** Where each flush takes how many lines each console reader read as metrics since the last one. */
  countReaders(take: () => ReadonlyMap<string, number>): void {
    this.takeReaderCounts = take;
  }

  /** A source of this priority produces `key`: the highest such source owns it (see FILE_PRIORITY). */
  claim(key: string, priority: SourcePriority | typeof MLFLOW_PRIORITY): void {
    const owner = this.owner.get(key) ?? 0;
    if (priority > owner) {
      this.owner.set(key, priority);
      if (owner > 0) this.contested[owner] = true;
    } else if (priority < owner) {
      this.contested[priority] = true;
    }
  }

  /** Flushes now when enough points wait, else soon. `logsPending`: console output waits to be written. */
  scheduleFlush(logsPending = false): void {
    if (this.pendingCount >= FLUSH_POINTS) this.flush();
    else if ((logsPending || this.pendingCount > 0 || this.pendingMalformed > 0) && !this.timer) this.flushLater(FLUSH_INTERVAL_MS);
  }

  /** Writes what waits. `final`: no waiting for the client's file, and a refused batch throws. */
  flush(final = false): void {
    this.cancel();
    const logsWritten = this.options.beforeFlush();
    if (!final && this.pendingCount === 0 && this.pendingMalformed === 0 && this.unsaved.length === 0) return;
    if (!final && !logsWritten) {
      // Points are never stored ahead of the log lines they were read from (a full disk).
      this.flushLater(RETRY_INTERVAL_MS);
      return;
    }
    if (!final && this.waitForClientFile()) {
      this.deferrals++;
      this.flushLater(FLUSH_INTERVAL_MS / 10);
      return;
    }
    this.deferrals = 0;
    let batch: MetricPoint[] = [];
    for (let priority = FILE_PRIORITY; priority <= CLIENT_PRIORITY; priority++) {
      const points = this.pending[priority]!;
      if (this.contested[priority]) {
        for (const point of points) if (this.owner.get(point.key) === priority) batch.push(point);
      } else if (points.length > 0) {
        batch = batch.length === 0 ? points : batch.concat(points);
      }
      this.pending[priority] = [];
    }
    let malformed = this.pendingMalformed;
    this.pendingCount = 0;
    this.pendingMalformed = 0;
    if (this.unsaved.length > 0 || this.unsavedMalformed > 0) {
      batch = this.unsaved.concat(batch);
      malformed += this.unsavedMalformed;
      this.unsaved = [];
      this.unsavedMalformed = 0;
    }
    const readerCounts = this.unsavedReaderCounts;
    this.unsavedReaderCounts = new Map();
    this.keepReaderCounts(readerCounts);
    const { store, runId } = this.options;
    try {
      store.ingest.recordBatch(runId, batch, malformed, readerCounts, this.options.checkpoints(), final);
    } catch (err) {
      // A full disk or a database locked by another process can pass: the batch rolled back as a
      // whole, so it is kept (within a bound) and written with the next flush.
      if (storageProblem(err) === undefined || batch.length > MAX_UNSAVED_POINTS) throw err;
      this.unsaved = batch;
      this.unsavedMalformed = malformed;
      this.unsavedReaderCounts = readerCounts;
      if (final) {
        throw Object.assign(new Error(`${batch.length} metric points could not be stored: ${(err as Error).message}`), { code: (err as { code?: string }).code });
      }
      this.flushLater(RETRY_INTERVAL_MS);
    }
  }

  /** Stops the flush timer (close() then flushes once more, final). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private keepReaderCounts(into: Map<string, number>): void {
    for (const [reader, lines] of this.takeReaderCounts?.() ?? []) into.set(reader, (into.get(reader) ?? 0) + lines);
  }

  private flushLater(ms: number): void {
    this.timer = setTimeout(() => {
      try {
        this.flush();
      } catch (err) {
        this.options.onError(err);
      }
    }, ms);
  }

  private waitForClientFile(): boolean {
    if (this.pending[CONSOLE_PRIORITY]!.length === 0 || this.deferrals >= MAX_DEFERRALS || this.pendingCount >= MAX_DEFERRED_POINTS) return false;
    return this.options.clientFileUnread();
  }
}
