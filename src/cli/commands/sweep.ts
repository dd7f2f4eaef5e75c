import { resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { startSweep } from '../../core/launch/sweep.ts';
import { parse, toJson, type CliCommand } from '../command.ts';
import { cliMlflow, NO_MLFLOW_OPTION, openLaunchStore, parseParam, signalNumber, STOP_SIGNALS } from './run.ts';

/** `lr=0.1,0.01` → ['lr', ['0.1', '0.01']]; values stay text until the profile types them. */
export function parseGrid(text: string): [string, string[]] {
  const [name, values] = parseParam(text);
  const list = values.split(',').map((v) => v.trim());
  if (!name || list.some((v) => v === '')) throw new UserError(`--grid takes NAME=V1,V2,…, not "${text}"`);
  return [name, list];
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UserError(`${flag} takes a positive whole number, not "${text}"`);
  return Number(text);
}

export const sweepCommand: CliCommand = {
  name: 'sweep',
  usage:
    'runboard sweep --profile P [--grid NAME=V1,V2]… [--random N] [--parallel K] [--seed S] [--param k=v]… [--input PATH]… [--experiment E] [--name N] [--interpreter PY] [--no-mlflow] [--json]',
  summary: "Grid or random search over a profile's params: one child run per point, K at a time",
  async run(ctx) {
    const { values } = parse(ctx, sweepCommand, {
      profile: { type: 'string' },
      grid: { type: 'string', multiple: true },
      random: { type: 'string' },
      parallel: { type: 'string' },
      seed: { type: 'string' },
      param: { type: 'string', multiple: true },
      input: { type: 'string', multiple: true },
      experiment: { type: 'string' },
      name: { type: 'string' },
      interpreter: { type: 'string' },
      ...NO_MLFLOW_OPTION,
    });
    if (!values.profile) throw new UserError(`--profile is required\nusage: ${sweepCommand.usage}`);
    let grid: Record<string, string[]> | undefined;
    for (const [name, list] of (values.grid ?? []).map(parseGrid)) {
      grid ??= {};
      if (grid[name]) throw new UserError(`--grid ${name} is given twice: list every value in one --grid ${name}=V1,V2`);
      grid[name] = list;
    }
    if (values.seed !== undefined && !/^\d+$/.test(values.seed.trim())) throw new UserError(`--seed takes a whole number, not "${values.seed}"`);
    const { store, dbPath, workspace } = openLaunchStore(ctx, values.db);
    const mlflow = cliMlflow(store, values['no-mlflow']);
    try {
      const sweep = startSweep(
        store,
        {
          dbPath,
          workspace,
          profile: values.profile,
          grid,
          random: positiveInt(values.random, '--random'),
          parallel: positiveInt(values.parallel, '--parallel'),
          seed: values.seed === undefined ? undefined : Number(values.seed),
          params: Object.fromEntries((values.param ?? []).map(parseParam)),
          inputs: (values.input ?? []).map((input) => resolve(ctx.cwd, input)),
          experiment: values.experiment,
          name: values.name,
          interpreter: values.interpreter,
          mlflow,
        },
        {
          planned: (parent, children, plan) =>
            ctx.err(
              `runboard: sweep ${parent.id} (${parent.name}): ${children.length} runs, ${plan.parallel} at a time` +
                (plan.seed === null ? '' : `, seed ${plan.seed}`),
            ),
          started: (run) => {
            const params = Object.entries(store.params(run.id)).map(([k, v]) => `${k}=${v}`);
            ctx.err(`runboard: run ${run.id} started (${params.join(' ')})`);
          },
          ended: (run) => ctx.err(`runboard: run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}`),
          warning: (text) => ctx.err(`runboard: warning: ${text}`),
        },
      );
      const stop = () => void sweep.stop();
      for (const signal of STOP_SIGNALS) process.on(signal, stop);
      let parent;
      try {
        parent = await sweep.done;
      } finally {
        for (const signal of STOP_SIGNALS) process.off(signal, stop);
      }
      const children = store.runs({ parentId: parent.id }).reverse();
      if (values.json) {
        ctx.out(
          toJson({
            id: parent.id,
            status: parent.status,
            error: parent.error,
            runs: children.map((c) => ({ id: c.id, status: c.status, exitCode: c.exitCode, params: store.params(c.id) })),
          }),
        );
      }
      const counts = new Map<string, number>();
      for (const c of children) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
      ctx.err(`runboard: sweep ${parent.id} ${parent.status}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
      if (parent.status === 'finished') return 0;
      if (parent.status === 'killed') return 128 + (signalNumber(parent.signal ?? 'SIGTERM') ?? 15);
      return 1;
    } finally {
      await mlflow?.close();
      store.close();
    }
  },
};
