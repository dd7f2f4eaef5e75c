import { COMMANDS } from './ids.ts';
import type { CommandSpec } from './shared/context.ts';

/** Clear Filter of the Experiments view (the sort stays). */
export const clearFilterCommand: CommandSpec = {
  id: COMMANDS.clearFilter,
  async run(ctx): Promise<void> {
    await ctx.trees.experiments.clearFilter();
  },
};
