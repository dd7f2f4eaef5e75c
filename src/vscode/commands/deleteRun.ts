import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { assertDeletable, deleteRuns } from '../../core/tracking/deleteRuns.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';

export interface DeleteRunOptions {
  /** Skip the modal confirmation (programmatic callers that already asked). */
  confirmed?: boolean;
}

const DELETE = 'Delete';
const FORGET = 'Forget';

/**
 * Delete Run: removes the run's records (metrics, params, lineage edges) and its output folder in
 * .runboard/runs after a modal confirmation, through the core's deleteRuns (which never follows a
 * symlink and keeps a folder elsewhere, saying why). Live runs are refused: stop them first. A
 * pulled run is only forgotten here (asked as "Forget"): its team server keeps it.
 */
export const deleteRunCommand: CommandSpec = {
  id: COMMANDS.deleteRun,
  async run(container, _views, ...args): Promise<number[] | undefined> {
    const ids = runIdsOfArgs(args);
    if (ids.length === 0) throw new UserError('Delete Run needs a run: use it from the Experiments view');
    const store = await container.store();
    const runs = ids.map((id) => requireRun(store, id));
    // Refused before the question: asking to confirm what cannot be done helps nobody.
    assertDeletable(store, runs);
    if (!optionsOf<DeleteRunOptions>(args).confirmed) {
      const pulled = runs.filter((r) => store.sync.runRemote(r.id) !== null);
      const onlyPulled = pulled.length === runs.length;
      const what = runs.length === 1 ? `${onlyPulled ? 'pulled ' : ''}run ${runs[0]!.id} (${runs[0]!.name})` : `${runs.length} ${onlyPulled ? 'pulled ' : ''}runs`;
      const button = onlyPulled ? FORGET : DELETE;
      const choice = await vscode.window.showWarningMessage(
        `${button} ${what}?`,
        {
          modal: true,
          detail: onlyPulled
            ? `Only this workspace's copy goes (its records and fetched artifacts): the team server keeps ${runs.length === 1 ? 'it' : 'them'}, and the next Pull Runs brings ${runs.length === 1 ? 'it' : 'them'} back.`
            : `Its metrics, params and lineage are removed from the database, and its run folder in .runboard/runs is deleted from disk (a folder elsewhere is kept). This cannot be undone.${pulled.length ? ` The ${pulled.length} pulled among them are only forgotten here: their team server keeps them.` : ''}`,
        },
        button,
      );
      if (choice !== button) return undefined;
    }
    const deleted = deleteRuns(store, store.file, runs);
    container.log.info(`Deleted ${deleted.map(({ run, folder, pulledFrom }) => `${pulledFrom ? 'the local copy of pulled ' : ''}run ${run.id}${folder === 'removed' ? ' and its folder' : ''}`).join(', ')}`);
    const kept = deleted.filter((d) => d.folder === 'kept').map(({ run, note }) => `Kept the folder of run ${run.id} (${run.runDir}): ${note}.`);
    if (kept.length) {
      for (const note of kept) container.log.info(note);
      void vscode.window.showInformationMessage(kept.join(' '));
    }
    return deleted.map(({ run }) => run.id);
  },
};
