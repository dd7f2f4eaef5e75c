import { COMMANDS } from './ids.ts';
import type { CommandSpec } from './shared/context.ts';

/** Refresh: re-reads every view now (they also follow the database on their own). */
export const refreshCommand: CommandSpec = {
  id: COMMANDS.refresh,
  run(ctx): void {
    ctx.trees.experiments.refresh();
    ctx.trees.models.refresh();
    ctx.trees.deployments.refresh();
  },
};
