import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { isTerminal } from '../../core/store/types.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';

export interface DeleteRunOptions {
  /** Skip the modal confirmation (programmatic callers that already asked). */
  confirmed?: boolean;
}

const DELETE = 'Delete';

/**
 * Delete Run: removes the run's records (metrics, params, lineage edges) after a modal
 * confirmation. Its output folder stays on disk. Live runs are refused: stop them first.
 */
export const deleteRunCommand: CommandSpec = {
  id: COMMANDS.deleteRun,
  async run(container, _views, ...args): Promise<number[] | undefined> {
    const ids = runIdsOfArgs(args);
    if (ids.length === 0) throw new UserError('Delete Run needs a run: use it from the Experiments view');
    const store = await container.store();
    const runs = ids.map((id) => requireRun(store, id));
    const live = runs.filter((r) => !isTerminal(r.status));
    if (live.length) throw new UserError(`Stop ${live.map((r) => `run ${r.id} (${r.name})`).join(', ')} before deleting ${live.length === 1 ? 'it' : 'them'}.`);
    if (!optionsOf<DeleteRunOptions>(args).confirmed) {
      const what = runs.length === 1 ? `run ${runs[0]!.id} (${runs[0]!.name})` : `${runs.length} runs`;
      const choice = await vscode.window.showWarningMessage(
        `Delete ${what}?`,
        { modal: true, detail: 'Its metrics, params and lineage are removed from the database. The output folder stays on disk. This cannot be undone.' },
        DELETE,
      );
      if (choice !== DELETE) return undefined;
    }
    for (const run of runs) store.deleteRun(run.id);
    container.log.info(`Deleted ${runs.map((r) => `run ${r.id}`).join(', ')}`);
    return runs.map((r) => r.id);
  },
};
