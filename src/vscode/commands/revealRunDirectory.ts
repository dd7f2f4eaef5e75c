import { existsSync } from 'node:fs';
import { UserError } from '../../core/errors.ts';
import { COMMANDS } from '../commandIds.ts';
import { requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';
import { reveal } from './shared/reveal.ts';

/** Reveal Run Folder: in the Explorer when it is inside the workspace, else in the OS file manager. */
export const revealRunDirectoryCommand: CommandSpec = {
  id: COMMANDS.revealRunDirectory,
  async run(container, _views, ...args): Promise<void> {
    const runId = runIdsOfArgs(args)[0];
    if (runId === undefined) throw new UserError('Reveal Run Folder needs a run: use it from the Experiments view');
    const run = requireRun(await container.store(), runId);
    if (!run.runDir || !existsSync(run.runDir)) throw new UserError(`Run ${run.id} has no output folder on this machine`);
    await reveal(container.workspace, run.runDir);
  },
};
