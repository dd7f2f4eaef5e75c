import { COMMANDS } from '../commandIds.ts';
import { RunsTablePanel } from '../webviews/runsTable/runsTablePanel.ts';
import type { CommandSpec } from './command.ts';

/** Open Runs Table: every run of the workspace (sweep runs included) in one sortable, filterable grid. */
export const openRunsTableCommand: CommandSpec = {
  id: COMMANDS.openRunsTable,
  async run(container, views): Promise<void> {
    await RunsTablePanel.show(container, views);
  },
};
