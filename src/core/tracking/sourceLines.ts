import type { LineHandler } from '../io/tail.ts';
import type { MetricBatcher } from './batcher.ts';

/**
 * Counts the lines read from one source (a log or a file of the run folder), for its ingest
 * checkpoint. A capture resumed after its recorder died re-reads each source from its start, so
 * the readers' state (step counters, progress bars, the reader chosen) comes back the same, and
 * the first `skip` lines, whose points are already stored, only replay that state.
 */
export class SourceLines {
  lines = 0;
  /** Bytes of the source read so far. */
  readonly bytes: () => number;
  private skip: number;
  private readonly batcher: MetricBatcher;

  constructor(batcher: MetricBatcher, skip: number, bytes: () => number) {
    this.batcher = batcher;
    this.skip = skip;
    this.bytes = bytes;
  }

  /** `handler`, with each line counted and the lines stored before only replayed. */
  wrap(handler: LineHandler): LineHandler {
    return (line, overlong) => {
      if (++this.lines > this.skip) handler(line, overlong);
      else this.batcher.replay(() => handler(line, overlong));
    };
  }

  /** The file was rewritten and is read from its start again: its new lines are all new. */
  restart(): void {
    this.lines = 0;
    this.skip = 0;
  }
}
