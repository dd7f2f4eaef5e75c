import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/core/store/store.ts';
import { queryRuns } from '../src/vscode/views/experiments/query.ts';

/**
 * The Experiments tree on 10,000 runs: one page of children as the view asks for it (sorted by a
 * metric, filtered by a param), against the plain newest-first page of the same size.
 */
export function benchTree(log: (line: string) => void, runs = 10_000): { treePageMs: number; treePageBaselineMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-tree-'));
  const store = Store.open(join(dir, 'runboard.db'));
  try {
    store.db.transaction(() => {
      for (let i = 0; i < runs; i++) {
        const run = store.createRun({ experiment: 'big', params: { lr: [0.1, 0.01, 0.001][i % 3]!, seed: i % 10 } });
        store.logMetrics(run.id, [{ key: 'accuracy', step: 0, value: (i * 7919) % 1000 / 1000 }]);
        store.markEnded(run.id, { status: i % 17 === 0 ? 'failed' : 'finished' });
      }
    })();
    const page = 200;
    const median = (f: () => void) => {
      const samples = Array.from({ length: 7 }, () => {
        const t = performance.now();
        f();
        return performance.now() - t;
      });
      return Math.round(samples.sort((a, b) => a - b)[3]! * 100) / 100;
    };
    const treePageBaselineMs = median(() => store.runs({ experiment: 'big', limit: page }));
    const treePageMs = median(() =>
      queryRuns(store, {
        experiment: 'big',
        filter: { param: { key: 'lr', value: '0.01' } },
        sort: { by: 'metric', metric: 'accuracy', descending: true },
        limit: page,
        offset: page * 5,
      }),
    );
    log(`tree: a page of ${page} of ${runs.toLocaleString('en-US')} runs, by metric with a param filter: ${treePageMs} ms (newest-first page: ${treePageBaselineMs} ms, ratio ${(treePageMs / treePageBaselineMs).toFixed(1)})`);
    return { treePageMs, treePageBaselineMs };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
