import { COMMANDS } from './ids.ts';
import type { CommandSpec } from './shared/context.ts';

/** The "Load N more…" row of an experiment. */
export const loadMoreRunsCommand: CommandSpec = {
  id: COMMANDS.loadMoreRuns,
  run(ctx, experiment): void {
    if (typeof experiment === 'string') ctx.trees.experiments.loadMore(experiment);
  },
};
