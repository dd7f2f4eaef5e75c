import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** Clear Filter of the Experiments view (the sort stays). */
export const clearFilterCommand: CommandSpec = {
  id: COMMANDS.clearFilter,
  async run(_container, views): Promise<void> {
    await views.experiments.clearFilter();
  },
};
