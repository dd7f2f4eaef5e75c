import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunQuery } from '../src/core/store/runQuery.ts';
import { Store } from '../src/core/store/store.ts';
import { compileRunFilter, parseRunFilter, type FilterableRun } from '../src/shared/runFilter.ts';

export interface FilterFigures {
  /** Parse, compile and evaluate the table's example filter over 10,000 in-memory rows (the table's budget: 100 ms). */
  filterEvalMs: number;
  /** The same test written by hand as one closure: the baseline. */
  filterEvalBaselineMs: number;
  /** A page of 200 through Store.runPage with the filter, over 10,000 runs. */
  filterSqlPageMs: number;
  /** The same page with the same conditions as --param/--metric/--status: the baseline. */
  filterSqlPageBaselineMs: number;
}

const EXAMPLE = 'params.lr < 0.1 and metrics.val_accuracy >= 0.94 and status = finished';

/** The run filter on 10,000 runs, in memory (the runs table) and in SQL (runs --filter), each against its hand-written equivalent. */
export function benchFilter(log: (line: string) => void, runs = 10_000): FilterFigures {
  const rows: FilterableRun[] = Array.from({ length: runs }, (_, i) => ({
    id: i + 1,
    name: `run-${i}`,
    experiment: 'big',
    status: i % 17 === 0 ? 'failed' : 'finished',
    startedAt: 1_700_000_000_000 + i,
    endedAt: 1_700_000_060_000 + i,
    params: { lr: String([0.1, 0.01, 0.001][i % 3]), seed: String(i % 10) },
    metrics: { val_accuracy: ((i * 7919) % 1000) / 1000, loss: i % 97 === 0 ? null : ((i * 104729) % 1000) / 1000 },
    tags: {},
  }));
  const samples = (f: () => unknown) =>
    Array.from({ length: 9 }, () => {
      const t = performance.now();
      f();
      return performance.now() - t;
    }).sort((a, b) => a - b)[4]!;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  let matched = 0;
  const filterEvalMs = round(samples(() => (matched = rows.filter(compileRunFilter(parseRunFilter(EXAMPLE))).length)));
  const byHand = (r: FilterableRun) => Number(r.params.lr) < 0.1 && (r.metrics.val_accuracy ?? NaN) >= 0.94 && r.status === 'finished';
  const filterEvalBaselineMs = round(samples(() => rows.filter(byHand).length));
  if (rows.filter(byHand).length !== matched) throw new Error('bench: the filter and its hand-written twin disagree');

  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-filter-'));
  const store = Store.open(join(dir, 'runboard.db'));
  try {
    store.transaction(() => {
      for (const row of rows) {
        const run = store.createRun({ experiment: 'big', params: row.params });
        store.logMetrics(run.id, [{ key: 'val_accuracy', step: 0, value: row.metrics.val_accuracy! }]);
        store.markEnded(run.id, { status: row.status as 'finished' | 'failed' });
      }
    });
    const page = { sort: { by: 'created', descending: true }, limit: 200, offset: 0 } as const;
    const withFilter: RunQuery = { ...page, filter: parseRunFilter(EXAMPLE) };
    const withFlags: RunQuery = {
      ...page,
      statuses: ['finished'],
      params: [{ key: 'lr', op: '<', value: '0.1' }],
      metrics: [{ key: 'val_accuracy', op: '>=', value: 0.94 }],
    };
    const filterSqlPageMs = round(samples(() => store.runPage(withFilter)));
    const filterSqlPageBaselineMs = round(samples(() => store.runPage(withFlags)));
    if (store.runPage(withFilter).total !== matched) throw new Error('bench: SQL and memory disagree');
    log(
      `filter: "${EXAMPLE}" over ${runs.toLocaleString('en-US')} rows in memory ${filterEvalMs} ms (hand-written ${filterEvalBaselineMs} ms, ratio ${(filterEvalMs / filterEvalBaselineMs).toFixed(1)}); ` +
        `a page of 200 in SQL ${filterSqlPageMs} ms (--param/--metric/--status ${filterSqlPageBaselineMs} ms, ratio ${(filterSqlPageMs / filterSqlPageBaselineMs).toFixed(1)}); ${matched} match`,
    );
    return { filterEvalMs, filterEvalBaselineMs, filterSqlPageMs, filterSqlPageBaselineMs };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
