import type { Connection } from './connection.ts';

/** Per run, how many console lines each capture reader read as metrics. */
export class CaptureReaders {
  // Prepared on first use: a store opened on an older schema (a migration test) never touches them.
  private readonly s;

  constructor(sql: Connection) {
    this.s = {
      add: sql.lazy(
        'INSERT INTO capture_readers (run_id, reader, lines) VALUES (?, ?, ?) ON CONFLICT (run_id, reader) DO UPDATE SET lines = lines + excluded.lines',
      ),
      counts: sql.lazy('SELECT reader, lines FROM capture_readers WHERE run_id = ? ORDER BY lines DESC, reader'),
    };
  }

  /** Adds to a run's counts; call inside the transaction that stores the lines' points. */
  add(runId: number, counts: ReadonlyMap<string, number>): void {
    for (const [reader, lines] of counts) if (lines > 0) this.s.add().run(runId, reader, lines);
  }

  /** Reader → lines read as metrics, largest first. */
  counts(runId: number): Record<string, number> {
    const rows = this.s.counts().all(runId) as { reader: string; lines: number }[];
    return Object.fromEntries(rows.map((row) => [row.reader, row.lines]));
  }
}
