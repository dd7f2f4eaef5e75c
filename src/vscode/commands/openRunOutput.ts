import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { COMMANDS } from '../commandIds.ts';
import { pickRun, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';

/** Open Output: the run's terminal when this window launched it, else its stdout.log (and stderr.log when not empty). */
export const openRunOutputCommand: CommandSpec = {
  id: COMMANDS.openRunOutput,
  async run(container, _views, ...args): Promise<void> {
    const store = await container.store();
    let runId = runIdsOfArgs(args)[0];
    if (runId === undefined) {
      const picked = await pickRun(store, { title: 'Open Run Output', empty: 'No runs yet.' });
      if (!picked) return;
      runId = picked.id;
    }
    const terminal = container.runs.terminal(runId);
    if (terminal) {
      terminal.show();
      return;
    }
    const run = requireRun(store, runId);
    if (!run.runDir) throw new UserError(`Run ${run.id} has no output folder`);
    const stdout = join(run.runDir, 'stdout.log');
    const stderr = join(run.runDir, 'stderr.log');
    if (!existsSync(stdout) && !existsSync(stderr)) throw new UserError(`Run ${run.id} wrote no output (${run.runDir})`);
    if (existsSync(stdout)) await vscode.window.showTextDocument(vscode.Uri.file(stdout), { preview: true });
    if (existsSync(stderr) && (await vscode.workspace.fs.stat(vscode.Uri.file(stderr))).size > 0) {
      await vscode.window.showTextDocument(vscode.Uri.file(stderr), { preview: false, viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
    }
  },
};
