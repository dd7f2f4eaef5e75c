import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { deleteRuns } from '../../core/tracking/deleteRuns.ts';
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
 * Delete Run: removes the run's records (metrics, params, lineage edges) and its output folder in
 * .runboard/runs after a modal confirmation, through the core's deleteRuns (which never follows a
 * symlink and keeps a folder elsewhere, saying why). Live runs are refused: stop them first.
 */
export const deleteRunCommand: CommandSpec = {
  id: COMMANDS.deleteRun,
  async run(container, _views, ...args): Promise<number[] | undefined> {
    const ids = runIdsOfArgs(args);
    if (ids.length === 0) throw new UserError('Delete Run needs a run: use it from the Experiments view');
    const store = await container.store();
    const runs = ids.map((id) => requireRun(store, id));
    // Refused before the question: asking to confirm what cannot be done helps nobody.
    const live = runs.filter((r) => !isTerminal(r.status));
    if (live.length) throw new UserError(`Stop ${live.map((r) => `run ${r.id} (${r.name})`).join(', ')} before deleting ${live.length === 1 ? 'it' : 'them'}.`);
    if (!optionsOf<DeleteRunOptions>(args).confirmed) {
      const what = runs.length === 1 ? `run ${runs[0]!.id} (${runs[0]!.name})` : `${runs.length} runs`;
      const choice = await vscode.window.showWarningMessage(
        `Delete ${what}?`,
        {
          modal: true,
          detail: 'Its metrics, params and lineage are removed from the database, and its run folder in .runboard/runs is deleted from disk (a folder elsewhere is kept). This cannot be undone.',
        },
        DELETE,
      );
      if (choice !== DELETE) return undefined;
    }
    const deleted = deleteRuns(store, store.file, runs);
    container.log.info(`Deleted ${deleted.map(({ run, folder }) => `run ${run.id}${folder === 'removed' ? ' and its folder' : ''}`).join(', ')}`);
    const kept = deleted.filter((d) => d.folder === 'kept').map(({ run, note }) => `Kept the folder of run ${run.id} (${run.runDir}): ${note}.`);
    if (kept.length) {
      for (const note of kept) container.log.info(note);
      void vscode.window.showInformationMessage(kept.join(' '));
    }
    return deleted.map(({ run }) => run.id);
  },
};
