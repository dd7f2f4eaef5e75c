import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeCoalescer } from '../src/core/refresh.ts';
import { Store } from '../src/core/store/store.ts';
import { RunCapture } from '../src/core/tracking/capture.ts';

const RUNS = 8;
const POINTS_PER_SEC = 10_000;
const TICK_MS = 20;

/**
 * Experiments view refreshes per second while 8 runs each log 10,000 points/s into one store
 * through the core's capture, counted as what the editor's coalescer emits (each emission is at
 * most one refresh of the view). The baseline in the same run: the store's own change events per
 * second, what a view following every event would do.
 */
export async function benchRefresh(log: (line: string) => void, seconds = 5): Promise<{ treeRefreshesPerSec: number; storeEventsPerSec: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-refresh-'));
  const store = Store.open(join(dir, 'runboard.db'));
  let refreshes = 0;
  let events = 0;
  let points = 0;
  const coalescer = new ChangeCoalescer(() => refreshes++);
  const subscription = store.onDidChange((event) => {
    events++;
    coalescer.push(event);
  });
  try {
    const captures = Array.from({ length: RUNS }, (_, i) => {
      const runDir = join(dir, `run-${i}`);
      mkdirSync(runDir);
      const run = store.createRun({ experiment: 'load', name: `run-${i}`, runDir });
      store.markStarted(run.id, process.pid);
      return new RunCapture(store, { runId: run.id, runDir });
    });
    const started = performance.now();
    const steps = new Array<number>(RUNS).fill(0);
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - started;
        // Owed points by the clock, so a late tick catches up and the rate holds.
        const due = Math.min(seconds * 1000, elapsed) * (POINTS_PER_SEC / 1000);
        captures.forEach((capture, i) => {
          const lines: string[] = [];
          for (; steps[i]! < due; steps[i]!++) lines.push(`{"step": ${steps[i]}, "loss": ${1 / (steps[i]! + 1)}}\n`);
          points += lines.length;
          if (lines.length) capture.stdout(Buffer.from(lines.join('')));
        });
        if (elapsed >= seconds * 1000) {
          clearInterval(timer);
          done();
        }
      }, TICK_MS);
    });
    const measured = (performance.now() - started) / 1000;
    const treeRefreshesPerSec = Math.round((refreshes / measured) * 100) / 100;
    const storeEventsPerSec = Math.round((events / measured) * 10) / 10;
    for (const capture of captures) await capture.close();
    const stored = captures.length ? Object.values(store.summaries(1)).reduce((sum, s) => sum + s.count, 0) : 0;
    log(
      `refresh: ${RUNS} runs × ${POINTS_PER_SEC.toLocaleString('en-US')} points/s (${points.toLocaleString('en-US')} points, ${stored.toLocaleString('en-US')} stored for run 1): ` +
        `${treeRefreshesPerSec} Experiments refreshes/s vs ${storeEventsPerSec} store change events/s`,
    );
    return { treeRefreshesPerSec, storeEventsPerSec };
  } finally {
    subscription.dispose();
    coalescer.dispose();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
