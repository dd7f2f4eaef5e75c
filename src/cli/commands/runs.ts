import { UserError } from '../../core/errors.ts';
import { RUN_STATUSES, type RunStatus } from '../../core/store/types.ts';
import { isoTime, openStore, parse, table, toJson, type CliCommand } from '../command.ts';

export const runsCommand: CliCommand = {
  name: 'runs',
  usage: 'runboard runs [--experiment E] [--status S] [--limit N] [--json]',
  summary: 'List runs, newest first',
  run(ctx) {
    const { values } = parse(ctx, runsCommand, {
      experiment: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
    });
    if (values.status !== undefined && !RUN_STATUSES.includes(values.status as RunStatus)) {
      throw new UserError(`Unknown status "${values.status}": use one of ${RUN_STATUSES.join(', ')}`);
    }
    const store = openStore(ctx, values.db, true);
    try {
      const runs = store.runs({
        experiment: values.experiment,
        status: values.status as RunStatus | undefined,
        limit: values.limit === undefined ? undefined : Number(values.limit),
      });
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
            })),
          ),
        );
      } else if (runs.length === 0) {
        const filtered = values.experiment !== undefined || values.status !== undefined;
        ctx.out(filtered ? 'No run matches.' : 'No runs yet. Start one with: runboard run -- python3 train.py');
      } else {
        ctx.out(
          table(
            ['ID', 'NAME', 'EXPERIMENT', 'STATUS', 'STARTED'],
            runs.map((r) => [String(r.id), r.name, r.experiment, r.status, isoTime(r.startedAt ?? r.createdAt) ?? '']),
          ),
        );
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
