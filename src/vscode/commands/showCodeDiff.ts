import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import type { Run } from '../../core/store/types.ts';
import { COMMANDS } from '../commandIds.ts';
import { codeStatePath } from '../webviews/compare/codeStatePaths.ts';
import { RUNBOARD_SCHEME } from '../webviews/compare/register.ts';
import type { CommandSpec } from './command.ts';
import { pickRuns, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';

/** Diff Code of Two Runs: VS Code's diff editor between two runs' code states (commit, params, patch). */
export const showCodeDiffCommand: CommandSpec = {
  id: COMMANDS.showCodeDiff,
  async run(container, _views, ...args): Promise<[number, number] | undefined> {
    const store = await container.store();
    let ids = runIdsOfArgs(args);
    if (ids.length !== 2) {
      const picked = await pickRuns(store, { preselected: ids.slice(0, 2), title: 'Diff the code of two runs', placeHolder: 'Pick exactly two runs' });
      if (!picked) return undefined;
      if (picked.length !== 2) throw new UserError(`Pick exactly two runs to diff their code (${picked.length} picked).`);
      ids = picked;
    }
    const [a, b] = ids.map((id) => requireRun(store, id)) as [Run, Run];
    const uri = (run: Run) => vscode.Uri.from({ scheme: RUNBOARD_SCHEME, path: codeStatePath(run.id, run.name) });
    await vscode.commands.executeCommand('vscode.diff', uri(a), uri(b), `${a.name} ↔ ${b.name}`, { preview: true });
    return [a.id, b.id];
  },
};
