import type { CaptureReaders } from './captureReaders.ts';
import type { Connection } from './connection.ts';
import type { MetricStore } from './metrics.ts';
import type { RunRepository } from './runs.ts';
import type { MetricPoint } from './types.ts';

/** How far one source of a run has been read and stored. */
export interface IngestCheckpoint {
  bytes: number;
  lines: number;
}

/** The process capturing a run: its pid, and when it took the run (to tell a reused pid). */
export interface Recorder {
  pid: number;
  since: number;
}

export interface OpenIngest {
  runId: number;
  recorder: Recorder;
  /** The capture's settings as JSON, opaque here. */
  settings: string;
}

/**
 * Capture's write-ahead bookkeeping. While a run is captured it has a recorder and, per source
 * file, a checkpoint committed with the points of each batch, so a capture that died is resumed
 * from its logs exactly where the database stopped.
 */
export class IngestRepository {
  private readonly sql: Connection;
  private readonly metrics: MetricStore;
  private readonly runs: RunRepository;
  private readonly readers: CaptureReaders;
  private readonly s;

  constructor(sql: Connection, metrics: MetricStore, runs: RunRepository, readers: CaptureReaders) {
    this.sql = sql;
    this.metrics = metrics;
    this.runs = runs;
    this.readers = readers;
    this.s = {
      begin: sql.lazy('INSERT OR REPLACE INTO ingest_runs (run_id, recorder, since, settings) VALUES (?, ?, ?, ?)'),
      checkpoint: sql.lazy(
        'INSERT INTO ingest_checkpoints (run_id, source, bytes, lines) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, source) DO UPDATE SET bytes = excluded.bytes, lines = excluded.lines',
      ),
      end: sql.lazy('DELETE FROM ingest_runs WHERE run_id = ?'),
      checkpoints: sql.lazy('SELECT source, bytes, lines FROM ingest_checkpoints WHERE run_id = ?'),
      open: sql.lazy('SELECT run_id, recorder, since, settings FROM ingest_runs ORDER BY run_id'),
      claim: sql.lazy('UPDATE ingest_runs SET recorder = ?, since = ? WHERE run_id = ? AND recorder = ? AND since = ?'),
    };
  }

  /** A capture starts (or starts over): it records the run from here. */
  begin(runId: number, recorder: Recorder, settings: string): void {
    this.sql.transaction(() => {
      this.s.end().run(runId);
      this.s.begin().run(runId, recorder.pid, recorder.since, settings);
    });
  }

  /**
   * One batch of capture, in one transaction: its points, malformed lines, reader counts and the
   * checkpoint of every source they came from. `complete`: the capture ended, nothing is left to resume.
   */
  recordBatch(
    runId: number,
    points: readonly MetricPoint[],
    malformed: number,
    readerCounts: ReadonlyMap<string, number>,
    checkpoints: ReadonlyMap<string, IngestCheckpoint>,
    complete: boolean,
  ): void {
    this.sql.transaction(() => {
      this.metrics.log(runId, points);
      this.runs.addMalformed(runId, malformed);
      this.readers.add(runId, readerCounts);
      if (complete) {
        this.s.end().run(runId);
        return;
      }
      for (const [source, { bytes, lines }] of checkpoints) this.s.checkpoint().run(runId, source, bytes, lines);
    });
  }

  /** Captures that were opened and never completed: live ones, and those whose recorder died. */
  open(): OpenIngest[] {
    const rows = this.s.open().all() as { run_id: number; recorder: number; since: number; settings: string }[];
    return rows.map((row) => ({ runId: row.run_id, recorder: { pid: row.recorder, since: row.since }, settings: row.settings }));
  }

  checkpoints(runId: number): Map<string, IngestCheckpoint> {
    const rows = this.s.checkpoints().all(runId) as { source: string; bytes: number; lines: number }[];
    return new Map(rows.map((row) => [row.source, { bytes: row.bytes, lines: row.lines }]));
  }

  /** Takes over a capture from the recorder seen dead; false when another process took it first. */
  takeOver(runId: number, from: Recorder, to: Recorder): boolean {
    return this.s.claim().run(to.pid, to.since, runId, from.pid, from.since).changes === 1;
  }
}
