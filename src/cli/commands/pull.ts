import { pullRuns } from '../../core/sync/pull.ts';
import { openStore, parse, toJson, type CliCommand } from '../command.ts';
import { remoteClient, throttled } from './syncCli.ts';

export const pullCommand: CliCommand = {
  name: 'pull',
  usage: 'runboard pull [--remote NAME|URL] [--experiment NAME] [--json]',
  summary:
    "Bring teammates' runs from an MLflow tracking server (params, tags, full metric histories; artifacts when opened), read-only and marked with the server and their author; runs pushed from here never come back as copies, and only what changed is read again",
  async run(ctx) {
    const { values } = parse(ctx, pullCommand, { remote: { type: 'string' }, experiment: { type: 'string' } });
    const { remote, client } = remoteClient(ctx, values.db, values.remote);
    const store = openStore(ctx, values.db);
    try {
      const progress = throttled(ctx.err);
      const summary = await pullRuns(store, client, {
        ...(values.experiment !== undefined ? { experiment: values.experiment } : {}),
        onProgress: ({ experiment, runs, points }) => progress(`runboard pull: ${experiment}: ${runs} runs, ${points.toLocaleString('en-US')} points read`),
      });
      if (values.json) ctx.out(toJson(summary));
      else {
        for (const run of summary.runs) ctx.err(`runboard: ${run.created ? 'pulled' : 'updated'} run ${run.id} (${run.name}, ${run.experiment}${run.author ? `, by ${run.author}` : ''})`);
        const created = summary.runs.filter((r) => r.created).length;
        ctx.out(`Pulled ${created} new run${created === 1 ? '' : 's'} and updated ${summary.runs.length - created} from ${remote.name} (${summary.points.toLocaleString('en-US')} points); ${summary.unchanged} unchanged, ${summary.ours} pushed from here`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};
