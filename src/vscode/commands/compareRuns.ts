import { COMMANDS } from '../commandIds.ts';
import { ComparePanel } from '../webviews/compare/comparePanel.ts';
import type { CommandSpec } from './command.ts';
import { pickRuns } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';

/**
 * Compare Selected Runs: opens the compare panel on run ids or tree nodes (VS Code's
 * `(node, selectedNodes)` from a multi-select context menu); with fewer than two it asks.
 * Resolves with the runs shown.
 */
export const compareRunsCommand: CommandSpec = {
  id: COMMANDS.compareRuns,
  async run(container, _views, ...args): Promise<number[] | undefined> {
    let ids = runIdsOfArgs(args);
    if (ids.length < 2) {
      const picked = await pickRuns(await container.store(), { preselected: ids, title: 'Compare runs', placeHolder: 'Pick the runs to compare (two or more)' });
      if (!picked) return undefined;
      ids = picked;
    }
    if (ids.length === 0) return undefined;
    await ComparePanel.show(container, ids);
    return ids;
  },
};
