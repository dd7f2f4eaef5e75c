/**
 * The filter box reads the one run-filter grammar (src/shared/runFilter.ts, the same as
 * `runboard runs --filter`): a predicate on the table's runs, or the error with its position.
 */
import { fromWire, type TableRun } from '../../src/shared/runsTableProtocol.ts';
import { setOwn } from '../../src/core/own.ts';
import { compileRunFilter, parseRunFilter, RunFilterSyntaxError, type FilterableRun } from '../../src/shared/runFilter.ts';

export type CompiledFilter = { test: (run: TableRun) => boolean; error: null } | { test: null; error: { message: string; position: number } };

const filterable = new WeakMap<TableRun, FilterableRun>();

/** The run as the grammar sees it (metrics by their last value), built once per run object. */
function asFilterable(run: TableRun): FilterableRun {
  let f = filterable.get(run);
  if (!f) {
    const metrics: Record<string, number | null> = {};
    for (const [key, m] of Object.entries(run.metrics)) setOwn(metrics, key, fromWire(m[0]));
    f = { id: run.id, name: run.name, experiment: run.experiment, status: run.status, startedAt: run.startedAt, endedAt: run.endedAt, params: run.params, metrics, tags: run.tags };
    filterable.set(run, f);
  }
  return f;
}

export function compileFilter(text: string, now: number): CompiledFilter {
  if (text.trim() === '') return { test: () => true, error: null };
  try {
    const predicate = compileRunFilter(parseRunFilter(text), now);
    return { test: (run) => predicate(asFilterable(run)), error: null };
  } catch (err) {
    if (err instanceof RunFilterSyntaxError) return { test: null, error: { message: err.message, position: err.position } };
    return { test: null, error: { message: err instanceof Error ? err.message : String(err), position: 0 } };
  }
}
