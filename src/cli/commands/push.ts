import { UserError } from '../../core/errors.ts';
import { pushRuns, selectRuns, type PushSummary } from '../../core/sync/push.ts';
import { watchPush } from '../../core/sync/watch.ts';
import { openStore, parse, toJson, type CliCommand } from '../command.ts';
import { STOP_SIGNALS } from './run.ts';
import { remoteClient, throttled } from './syncCli.ts';

export const pushCommand: CliCommand = {
  name: 'push',
  usage: 'runboard push [--remote NAME|URL] (--all | RUN… | --experiment NAME) [--watch [--interval SECONDS]] [--json]',
  summary:
    "Send runs to an MLflow tracking server: params, tags, every metric point, inputs, artifacts, the uncommitted patch; only what is new since the last push. --watch pushes ended runs whenever the server answers, until Ctrl-C",
  async run(ctx) {
    const { values, positionals } = parse(ctx, pushCommand, {
      remote: { type: 'string' },
      all: { type: 'boolean', default: false },
      experiment: { type: 'string' },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string' },
    });
    const interval = values.interval === undefined ? 30 : Number(values.interval);
    if (!(interval > 0) || !Number.isFinite(interval)) throw new UserError(`--interval takes a number of seconds, not "${values.interval}"`);
    const selection = { all: values.all || (values.watch && positionals.length === 0 && values.experiment === undefined), runs: positionals, ...(values.experiment !== undefined ? { experiment: values.experiment } : {}) };
    const { remote, client } = remoteClient(ctx, values.db, values.remote);
    const store = openStore(ctx, values.db);
    try {
      selectRuns(store, selection); // says at once when the selection is wrong
      if (values.watch) {
        ctx.err(`runboard push: watching ${selectRuns(store, selection).length} runs, pushing ended ones every ${seconds(interval * 1000)} s; Ctrl-C stops`);
        await untilStopped((signal) =>
          watchPush(store, client, {
            select: () => selectRuns(store, selection),
            intervalMs: interval * 1000,
            maxBackoffMs: Math.max(interval * 1000, 300_000),
            signal,
            onPushed: (summary) => ctx.err(`runboard push: ${describe(summary)}`),
            onFailure: (line, retryInMs) => ctx.err(`runboard push: ${line}; nothing is lost, trying again in ${seconds(retryInMs)} s`),
            onRecovered: () => ctx.err(`runboard push: ${remote.name} answers again`),
          }),
        );
        return 0;
      }
      const runs = selectRuns(store, selection);
      const progress = throttled(ctx.err);
      const summary = await pushRuns(store, client, runs, {
        onProgress: ({ run, index, total, points }) => progress(`runboard push: run ${index + 1}/${total} (${run.name}), ${points.toLocaleString('en-US')} points sent`),
      });
      for (const problem of summary.problems) ctx.err(`runboard push: ${problem}`);
      if (summary.failure !== undefined) ctx.err(`runboard push: ${summary.failure}; what was sent is recorded and the next push resumes there`);
      if (values.json) ctx.out(toJson(summary));
      else ctx.out(`${describe(summary)} to ${remote.name === remote.url ? remote.url : `${remote.name} (${remote.url})`}`);
      return summary.failure !== undefined ? 1 : summary.problems.length ? 3 : 0;
    } finally {
      store.close();
    }
  },
};

function describe(summary: PushSummary): string {
  const { sent } = summary;
  if (sent.runs === 0) return 'Everything was pushed already';
  const parts = [`${sent.params} params`, `${sent.tags} tags`, `${sent.points.toLocaleString('en-US')} metric points`, `${sent.artifacts} artifacts`, `${sent.inputs} inputs`, `${sent.models} model versions`];
  return `Pushed ${sent.runs} run${sent.runs === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** Runs a loop until SIGINT or SIGTERM aborts it. */
async function untilStopped(loop: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  try {
    await loop(controller.signal);
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }
}

const seconds = (ms: number): string => String(ms < 10_000 ? Math.round(ms / 100) / 10 : Math.round(ms / 1000));
