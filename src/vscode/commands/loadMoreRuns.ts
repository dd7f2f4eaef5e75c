import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** The "Load N more…" row of an experiment. */
export const loadMoreRunsCommand: CommandSpec = {
  id: COMMANDS.loadMoreRuns,
  run(_container, views, experiment): void {
    if (typeof experiment === 'string') views.experiments.loadMore(experiment);
  },
};
