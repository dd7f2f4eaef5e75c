import { UserError } from '../../core/errors.ts';
import { parseMetricCondition, parseParamCondition, parseRunSort } from '../../core/store/runQuery.ts';
import { RUN_STATUSES, type RunStatus } from '../../core/store/types.ts';
import { caretLine, parseRunFilter, RunFilterSyntaxError, type RunFilterAst } from '../../shared/runFilter.ts';
import { isoTime, num, openStore, parse, table, toJson, type CliCommand } from '../command.ts';
import { reconcileIfWritable } from './run.ts';

export const runsCommand: CliCommand = {
  name: 'runs',
  usage:
    "runboard runs [--filter EXPR] [--experiment E] [--status S] [--name TEXT] [--param k=v | 'k<v']… [--metric 'k>=x']… [--sort created|name|status|duration|metric:K|param:K[:desc]] [--limit N] [--json]",
  summary: `List runs, newest first; filter (--filter, or --param/--metric: all hold), sort (a trailing :desc for descending)

--filter takes MLflow's search filter, conditions joined by AND (README: "Filtering runs"):
  metrics.KEY, params.KEY, tags.KEY (quote odd keys: params.\`my key\`), and attributes:
  status, name (run_name), experiment, id, run_id, user_id, start_time, end_time (epoch ms), duration (s)
  operators  = != < <= > >=  LIKE ILIKE ('%' any, '_' one, \\ escapes)  IN (...)  NOT IN (...)  IS [NOT] NULL
  a metric is its last value; a run without the key (or a NaN) matches no comparison
  Runboard also reads: lowercase and, unquoted words (status = finished), params compared as numbers
  (params.lr < 0.1), statuses in any case (FINISHED = finished)
  e.g.  runboard runs --filter "params.lr < 0.1 and metrics.val_accuracy >= 0.94 and status = finished"`,
  async run(ctx) {
    const { values } = parse(ctx, runsCommand, {
      experiment: { type: 'string' },
      status: { type: 'string' },
      name: { type: 'string' },
      filter: { type: 'string' },
      param: { type: 'string', multiple: true },
      metric: { type: 'string', multiple: true },
      sort: { type: 'string' },
      limit: { type: 'string' },
    });
    if (values.status !== undefined && !RUN_STATUSES.includes(values.status as RunStatus)) {
      throw new UserError(`Unknown status "${values.status}": use one of ${RUN_STATUSES.join(', ')}`);
    }
    const limit = values.limit === undefined ? -1 : Number(values.limit);
    if (values.limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UserError(`--limit "${values.limit}" is not a positive whole number`);
    const params = (values.param ?? []).map(parseParamCondition);
    const metrics = (values.metric ?? []).map(parseMetricCondition);
    const filter = values.filter === undefined ? undefined : readFilter(values.filter);
    const sort = values.sort === undefined ? { by: 'created' as const, descending: true } : parseRunSort(values.sort);
    // The metric the listing is about, shown as a column: the one sorted by, else the first filtered on.
    const filteredMetric = filter?.clauses.find((c) => c.kind === 'metric');
    const shownMetric = sort.by === 'metric' ? sort.key : (metrics[0]?.key ?? (filteredMetric?.kind === 'metric' ? filteredMetric.key : undefined));
    await reconcileIfWritable(ctx, values.db);
    const store = openStore(ctx, values.db, true);
    try {
      const { runs } = store.runPage(
        {
          experiment: values.experiment,
          statuses: values.status === undefined ? undefined : [values.status as RunStatus],
          text: values.name,
          params,
          metrics,
          filter,
          sort,
          limit,
          offset: 0,
        },
        { keyMetric: shownMetric },
      );
      const metricOf = (r: (typeof runs)[number]) => (shownMetric !== undefined && r.keyMetric?.key === shownMetric ? r.keyMetric.value : undefined);
      if (values.json) {
        ctx.out(
          toJson(
            runs.map((r) => ({
              id: r.id,
              name: r.name,
              experiment: r.experiment,
              status: r.status,
              exitCode: r.exitCode,
              startedAt: isoTime(r.startedAt),
              endedAt: isoTime(r.endedAt),
              parent: r.parentId,
              ...(shownMetric === undefined ? {} : { metric: { key: shownMetric, value: metricOf(r) ?? null } }),
            })),
          ),
        );
      } else if (runs.length === 0) {
        const filtered = values.experiment !== undefined || values.status !== undefined || values.name !== undefined || values.filter !== undefined || params.length + metrics.length > 0;
        ctx.out(filtered ? 'No run matches.' : 'No runs yet. Start one with: runboard run -- python3 train.py');
      } else {
        const header = ['ID', 'NAME', 'EXPERIMENT', 'STATUS', 'STARTED', ...(shownMetric === undefined ? [] : [shownMetric.toUpperCase()])];
        ctx.out(
          table(
            header,
            runs.map((r) => [
              String(r.id),
              r.name,
              r.experiment,
              r.status,
              isoTime(r.startedAt ?? r.createdAt) ?? '',
              ...(shownMetric === undefined ? [] : [num(metricOf(r))]),
            ]),
          ),
        );
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

/** The --filter text read, or one line saying where it cannot be. */
function readFilter(text: string): RunFilterAst {
  try {
    return parseRunFilter(text);
  } catch (err) {
    if (!(err instanceof RunFilterSyntaxError)) throw err;
    throw new UserError(`Cannot read --filter at column ${err.position + 1}: ${err.message}: ${caretLine(text, err.position)}`);
  }
}
