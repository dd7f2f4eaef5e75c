import type { Store } from '../../../core/store/store.ts';
import type { Run } from '../../../core/store/types.ts';
import type { RunFilterState, SortState } from './state.ts';

/**
 * The runs of one experiment as the view shows them: filtered by status, name, a param value or
 * a metric's last value, sorted, one page at a time. Read-only SQL over the store's connection,
 * because the store's RunFilter has no param/metric conditions and sorting 10,000 runs by a
 * metric must not read 10,000 summaries. (A candidate to move into the core's Store.)
 */
export interface RunPageQuery {
  experiment: string;
  filter: RunFilterState;
  sort: SortState;
  limit: number;
  offset: number;
}

interface Sql {
  from: string;
  where: string;
  args: Record<string, unknown>;
}

function build(query: Omit<RunPageQuery, 'limit' | 'offset'>, forOrder: boolean): Sql {
  const { filter, sort } = query;
  const args: Record<string, unknown> = { experiment: query.experiment };
  const joins: string[] = [];
  // A sweep's runs are listed under the sweep, not again beside it.
  const conditions = ['e.name = @experiment', 'r.parent_id IS NULL'];
  if (filter.statuses?.length) {
    conditions.push(`r.status IN (${filter.statuses.map((_, i) => `@status${i}`).join(', ')})`);
    filter.statuses.forEach((s, i) => (args[`status${i}`] = s));
  }
  if (filter.text) {
    const id = /^#?(\d+)$/.exec(filter.text);
    conditions.push(id ? '(r.id = @textId OR r.name LIKE @text ESCAPE \'\\\')' : "r.name LIKE @text ESCAPE '\\'");
    if (id) args.textId = Number(id[1]);
    args.text = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  if (filter.param) {
    conditions.push('EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = @paramKey AND p.value = @paramValue)');
    args.paramKey = filter.param.key;
    args.paramValue = filter.param.value;
  }
  if (filter.metric) {
    joins.push('JOIN metric_summaries mf ON mf.run_id = r.id AND mf.key_id = (SELECT id FROM metric_keys WHERE name = @filterMetric)');
    // NaN is stored as NULL and never matches, as NaN compares with nothing.
    conditions.push(`mf.last ${filter.metric.op === '!=' ? '<>' : filter.metric.op === '=' ? '=' : filter.metric.op} @filterValue`);
    args.filterMetric = filter.metric.key;
    args.filterValue = filter.metric.value;
  }
  if (forOrder && sort.by === 'metric' && sort.metric) {
    joins.push('LEFT JOIN metric_summaries ms ON ms.run_id = r.id AND ms.key_id = (SELECT id FROM metric_keys WHERE name = @sortMetric)');
    args.sortMetric = sort.metric;
  }
  return { from: `runs r JOIN experiments e ON e.id = r.experiment_id ${joins.join(' ')}`, where: conditions.join(' AND '), args };
}

function orderBy(sort: SortState): string {
  const dir = sort.descending ? 'DESC' : 'ASC';
  switch (sort.by) {
    case 'name':
      return `r.name COLLATE NOCASE ${dir}, r.id DESC`;
    case 'status':
      return `r.status ${dir}, r.id DESC`;
    case 'duration':
      return `(coalesce(r.ended_at, @now) - coalesce(r.started_at, r.created_at)) ${dir}, r.id DESC`;
    case 'metric':
      // Runs without the metric go last whichever the direction.
      return `ms.last IS NULL, ms.last ${dir}, r.id DESC`;
    case 'created':
    default:
      return `r.id ${dir}`;
  }
}

export function queryRuns(store: Store, query: RunPageQuery): Run[] {
  const sql = build(query, true);
  const ids = store.db
    .prepare(`SELECT r.id FROM ${sql.from} WHERE ${sql.where} ORDER BY ${orderBy(query.sort)} LIMIT @limit OFFSET @offset`)
    .pluck()
    .all({ ...sql.args, ...(query.sort.by === 'duration' ? { now: Date.now() } : {}), limit: query.limit, offset: query.offset }) as number[];
  return ids.map((id) => store.run(id)).filter((r): r is Run => r !== undefined);
}

export function countRuns(store: Store, query: Omit<RunPageQuery, 'limit' | 'offset' | 'sort'>): number {
  const sql = build({ ...query, sort: { by: 'created', descending: true } }, false);
  return store.db.prepare(`SELECT count(*) FROM ${sql.from} WHERE ${sql.where}`).pluck().get(sql.args) as number;
}

/** Metric keys recorded anywhere, for the sort and filter pickers. */
export function metricKeys(store: Store): string[] {
  return store.db.prepare('SELECT name FROM metric_keys ORDER BY name').pluck().all() as string[];
}

/** Param keys recorded anywhere, for the filter picker. */
export function paramKeys(store: Store): string[] {
  return store.db.prepare('SELECT DISTINCT key FROM params ORDER BY key').pluck().all() as string[];
}

/** How many children a sweep parent has. */
export function childCount(store: Store, runId: number): number {
  return store.countRuns({ parentId: runId });
}
