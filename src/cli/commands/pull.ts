import { UserError } from '../../core/errors.ts';
import type { Store } from '../../core/store/store.ts';
import { fetchArtifact, pullRuns } from '../../core/sync/pull.ts';
import { openStore, parse, toJson, type CliCommand, type CliContext } from '../command.ts';
import { remoteClient, throttled } from './syncCli.ts';

export const pullCommand: CliCommand = {
  name: 'pull',
  usage: 'runboard pull [--remote NAME|URL] [--experiment NAME] [--json]\n       runboard pull --fetch RUN [--artifact PATH] [--json]',
  summary:
    "Bring teammates' runs from an MLflow tracking server (params, tags, full metric histories; artifacts when opened), read-only and marked with the server and their author; runs pushed from here never come back as copies, and only what changed is read again. --fetch downloads a pulled run's artifacts (or one) from the server it came from",
  async run(ctx) {
    const { values } = parse(ctx, pullCommand, { remote: { type: 'string' }, experiment: { type: 'string' }, fetch: { type: 'string' }, artifact: { type: 'string' } });
    if (values.artifact !== undefined && values.fetch === undefined) throw new UserError(`--artifact goes with --fetch RUN\nusage: ${pullCommand.usage}`);
    const store = openStore(ctx, values.db);
    try {
      if (values.fetch !== undefined) return await fetchArtifacts(ctx, store, values.db, values.fetch, values.artifact, values.json);
      const { remote, client } = remoteClient(ctx, values.db, values.remote);
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

/** A pulled run's artifacts (or one), downloaded from the server it came from into its folder. */
async function fetchArtifacts(ctx: CliContext, store: Store, db: string | undefined, ref: string, only: string | undefined, json: boolean | undefined): Promise<number> {
  const run = store.resolveRun(ref);
  const url = store.sync.runRemote(run.id);
  if (url === null) throw new UserError(`run ${run.id} (${run.name}) was recorded here, not pulled: its artifacts are in ${run.runDir ?? 'its folder'}`);
  const { client } = remoteClient(ctx, db, url);
  const paths = only !== undefined ? [only] : store.artifacts(run.id).map((a) => a.path);
  const files: string[] = [];
  for (const path of paths) files.push(await fetchArtifact(store, client, run.id, path));
  if (json) ctx.out(toJson(files));
  else for (const file of files) ctx.out(file);
  return 0;
}
