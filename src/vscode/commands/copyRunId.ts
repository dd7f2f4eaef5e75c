import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { COMMANDS } from '../commandIds.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';

/** Copy Run ID (several, space-separated, for a selection): what `runboard show|stop|compare` take. */
export const copyRunIdCommand: CommandSpec = {
  id: COMMANDS.copyRunId,
  async run(_container, _views, ...args): Promise<string> {
    const ids = runIdsOfArgs(args);
    if (ids.length === 0) throw new UserError('Copy Run ID needs a run: use it from the Experiments view');
    const text = ids.join(' ');
    await vscode.env.clipboard.writeText(text);
    return text;
  },
};
