import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/core/store/store.ts';
import type { MetricPoint } from '../src/core/store/types.ts';

const BATCH = 10_000;

function series(length: number, seed: number): MetricPoint[] {
  const wall0 = Date.now();
  return Array.from({ length }, (_, step) => ({
    key: 'loss',
    step,
    value: Math.exp(-step / (length / 5)) + 0.05 * Math.sin(step * 0.37 + seed),
    wall: wall0 + step * 10,
  }));
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Raw better-sqlite3 inserts of the same rows into the same table shape: the ceiling. */
function ceiling(dir: string, points: MetricPoint[]): number {
  const db = new Database(join(dir, 'ceiling.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE metrics (run_id INTEGER NOT NULL, key_id INTEGER NOT NULL, step INTEGER NOT NULL,
    wall INTEGER NOT NULL, value REAL, PRIMARY KEY (run_id, key_id, step)) WITHOUT ROWID`);
  const insert = db.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?)');
  const batch = db.transaction((rows: MetricPoint[]) => {
    for (const p of rows) insert.run(1, 1, p.step, p.wall, p.value);
  });
  const ms = time(() => {
    for (let i = 0; i < points.length; i += BATCH) batch(points.slice(i, i + BATCH));
  });
  db.close();
  return points.length / (ms / 1000);
}

export interface StoreBench {
  ingestPointsPerSec: number;
  ceilingPointsPerSec: number;
  ratio: number;
  /** A loop restarted from a checkpoint at 90 %: its last 100,000 steps logged again with new values. */
  restartPointsPerSec: number;
  restartRatio: number;
  bytesPerPoint: number;
  envelopeMs: Record<string, number>;
  envelopeMsPerSeries: Record<string, number>;
}

export function benchStore(log: (line: string) => void, options: { runs: number; lengths: number[] }): StoreBench {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-'));
  try {
    const points = series(1_000_000, 1);
    // Alternate the two measurements so machine noise hits both alike.
    const ceilings: number[] = [];
    const ingests: number[] = [];
    const restarts: number[] = [];
    let bytesPerPoint = 0;
    for (let round = 0; round < 3; round++) {
      ceilings.push(ceiling(dir, points));
      rmSync(join(dir, 'ceiling.db'), { force: true });
      const file = join(dir, `ingest-${round}.db`);
      const store = Store.open(file);
      const run = store.createRun({});
      const ms = time(() => {
        for (let i = 0; i < points.length; i += BATCH) store.logMetrics(run.id, points.slice(i, i + BATCH));
      });
      ingests.push(points.length / (ms / 1000));
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      bytesPerPoint = statSync(file).size / points.length;
      const again = points.slice(-100_000).map((p) => ({ ...p, value: p.value + 1 }));
      const restartMs = time(() => {
        for (let i = 0; i < again.length; i += BATCH) store.logMetrics(run.id, again.slice(i, i + BATCH));
      });
      restarts.push(again.length / (restartMs / 1000));
      store.close();
      rmSync(file, { force: true });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ceilingRate = median(ceilings);
    const ingestRate = median(ingests);
    const restartRate = median(restarts);
    log(`ingest: ${fmt(ingestRate)} points/s through the store vs ${fmt(ceilingRate)} raw inserts (ratio ${(ingestRate / ceilingRate).toFixed(2)}), ${bytesPerPoint.toFixed(1)} bytes/point incl. rollups`);
    log(`ingest of a restarted loop (100,000 steps logged again, each replacing its point): ${fmt(restartRate)} points/s (ratio ${(restartRate / ceilingRate).toFixed(2)})`);

    const envelopeMs: Record<string, number> = {};
    const envelopeMsPerSeries: Record<string, number> = {};
    for (const length of options.lengths) {
      const file = join(dir, `envelope-${length}.db`);
      const store = Store.open(file);
      const base = series(length, 2);
      const ids: number[] = [];
      for (let r = 0; r < options.runs; r++) {
        const run = store.createRun({});
        ids.push(run.id);
        for (let i = 0; i < base.length; i += 100_000) {
          store.logMetrics(run.id, base.slice(i, i + 100_000).map((p) => ({ ...p, value: p.value + r * 0.001 })));
        }
      }
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      // Warm the statement cache once, then time the compare panel's query: every run's envelope.
      store.envelope(ids[0]!, 'loss', 1000);
      const samples = [0, 1, 2].map(() => time(() => ids.forEach((id) => store.envelope(id, 'loss', 1000))));
      envelopeMs[length] = round2(median(samples));
      envelopeMsPerSeries[length] = round2(median(samples) / options.runs);
      log(`envelope: ${options.runs} runs × ${fmt(length)} steps → 1000 buckets each in ${envelopeMs[length]} ms (${envelopeMsPerSeries[length]} ms per series)`);
      store.close();
      rmSync(file, { force: true });
    }
    return {
      ingestPointsPerSec: Math.round(ingestRate),
      ceilingPointsPerSec: Math.round(ceilingRate),
      ratio: round2(ingestRate / ceilingRate),
      restartPointsPerSec: Math.round(restartRate),
      restartRatio: round2(restartRate / ceilingRate),
      bytesPerPoint: round2(bytesPerPoint),
      envelopeMs,
      envelopeMsPerSeries,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
