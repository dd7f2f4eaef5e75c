import type { Db, Statement } from './db.ts';

/** Per run, how many console lines each capture reader read as metrics. */
export class CaptureReaders {
  private readonly db: Db;
  // Prepared on first use: a store opened on an older schema (a migration test) never touches them.
  private addStatement: Statement | undefined;
  private countsStatement: Statement | undefined;

  constructor(db: Db) {
    this.db = db;
  }

  /** Adds to a run's counts; call inside the transaction that stores the lines' points. */
  add(runId: number, counts: ReadonlyMap<string, number>): void {
    if (counts.size === 0) return;
    this.addStatement ??= this.db.prepare(
      'INSERT INTO capture_readers (run_id, reader, lines) VALUES (?, ?, ?) ON CONFLICT (run_id, reader) DO UPDATE SET lines = lines + excluded.lines',
    );
    for (const [reader, lines] of counts) if (lines > 0) this.addStatement.run(runId, reader, lines);
  }

  /** Reader → lines read as metrics, largest first. */
  counts(runId: number): Record<string, number> {
    this.countsStatement ??= this.db.prepare('SELECT reader, lines FROM capture_readers WHERE run_id = ? ORDER BY lines DESC, reader');
    const rows = this.countsStatement.all(runId) as { reader: string; lines: number }[];
    return Object.fromEntries(rows.map((row) => [row.reader, row.lines]));
  }
}
