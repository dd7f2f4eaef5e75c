import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunQuery } from '../src/core/store/runQuery.ts';
import { Store } from '../src/core/store/store.ts';

export interface TreeFigures {
  /** A page of 200 by metric with a param filter, deep in the list, through Store.runPage. */
  treePageMs: number;
  /** The plain newest-first page of the same size (store.runs): the baseline. */
  treePageBaselineMs: number;
  /** Statements for one Experiments page of 200 runs with key metric and child counts (goal ≤ 5). */
  treePageStatements: number;
  /** p95 of a page refresh (200 runs, newest first as the view opens, with key metrics and child counts) over 10,000 runs (goal < 20 ms). */
  treePageP95Ms: number;
  /** The same, sorted by a metric: every run's summary is read to sort. */
  treePageSortedP95Ms: number;
}

/**
 * The Experiments tree on 10,000 runs (every 100th a sweep with 5 children): one page as the view
 * asks for it, against the plain newest-first page of the same size.
 */
export function benchTree(log: (line: string) => void, runs = 10_000): TreeFigures {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-tree-'));
  const store = Store.open(join(dir, 'runboard.db'));
  try {
    store.transaction(() => {
      for (let i = 0; i < runs; i++) {
        const run = store.createRun({ experiment: 'big', params: { lr: [0.1, 0.01, 0.001][i % 3]!, seed: i % 10 } });
        store.logMetrics(run.id, [
          { key: 'accuracy', step: 0, value: ((i * 7919) % 1000) / 1000 },
          { key: 'loss', step: 0, value: ((i * 104729) % 1000) / 1000 },
        ]);
        store.markEnded(run.id, { status: i % 17 === 0 ? 'failed' : 'finished' });
        if (i % 100 === 0) for (let c = 0; c < 5; c++) store.createRun({ experiment: 'big', parentId: run.id });
      }
    });
    const page = 200;
    const samples = (count: number, f: () => void) =>
      Array.from({ length: count }, () => {
        const t = performance.now();
        f();
        return performance.now() - t;
      }).sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    const median = (f: () => void) => round(samples(7, f)[3]!);

    const treePageBaselineMs = median(() => store.runs({ experiment: 'big', limit: page }));
    const deep: RunQuery = {
      experiment: 'big',
      topLevelOnly: true,
      params: [{ key: 'lr', op: '=', value: '0.01' }],
      sort: { by: 'metric', key: 'accuracy', descending: true },
      limit: page,
      offset: page * 5,
    };
    const treePageMs = median(() => store.runPage(deep, { keyMetric: 'accuracy' }));

    const refresh: RunQuery = { experiment: 'big', topLevelOnly: true, sort: { by: 'created', descending: true }, limit: page, offset: 0 };
    const sorted: RunQuery = { ...refresh, sort: { by: 'metric', key: 'accuracy', descending: true } };
    const before = store.statementsExecuted;
    const shown = store.runPage(refresh, { keyMetric: 'loss' });
    const treePageStatements = store.statementsExecuted - before;
    const p95 = (query: RunQuery) => {
      const timings = samples(40, () => store.runPage(query, { keyMetric: 'loss' }));
      return round(timings[Math.ceil(timings.length * 0.95) - 1]!);
    };
    const treePageP95Ms = p95(refresh);
    const treePageSortedP95Ms = p95(sorted);

    log(`tree: a page of ${page} of ${runs.toLocaleString('en-US')} runs, by metric with a param filter: ${treePageMs} ms (newest-first page: ${treePageBaselineMs} ms, ratio ${(treePageMs / treePageBaselineMs).toFixed(1)})`);
    log(
      `tree: a page refresh with key metrics and child counts (${shown.runs.length} of ${shown.total} runs): ${treePageStatements} statements, p95 ${treePageP95Ms} ms newest first, ${treePageSortedP95Ms} ms by metric (ratios to the plain newest-first page ${(treePageP95Ms / treePageBaselineMs).toFixed(1)}, ${(treePageSortedP95Ms / treePageBaselineMs).toFixed(1)})`,
    );
    return { treePageMs, treePageBaselineMs, treePageStatements, treePageP95Ms, treePageSortedP95Ms };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
