import * as vscode from 'vscode';
import { rerun } from '../../core/launch/rerun.ts';
import { isTerminal } from '../../core/store/types.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf, pickRun, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';
import { launchTracked, type LaunchResult } from './shared/launching.ts';

export interface RerunOptions {
  runId?: number;
  name?: string;
  wait?: boolean;
  terminal?: boolean;
}

/** Re-run: the same command, cwd, params, profile and inputs; warns when the code changed since. */
export const rerunCommand: CommandSpec = {
  id: COMMANDS.rerun,
  async run(container, _views, ...args): Promise<LaunchResult | undefined> {
    container.trust.require('re-run a run');
    const options = optionsOf<RerunOptions>(args);
    const store = await container.store();
    let runId = runIdsOfArgs(args)[0];
    const interactive = runId === undefined;
    if (runId === undefined) {
      const picked = await pickRun(store, { title: 'Re-run', statuses: ['finished', 'failed', 'killed', 'crashed'], empty: 'No ended run to re-run yet.' });
      if (!picked) return undefined;
      runId = picked.id;
    }
    const original = requireRun(store, runId);
    if (!isTerminal(original.status)) void vscode.window.showInformationMessage(`Run ${original.id} is still ${original.status}; starting another one with the same settings.`);
    const warnings: string[] = [];
    const handle = await launchTracked(
      container,
      (output) =>
        rerun(store, original.id, { dbPath: container.dbPath, workspace: container.workspace, name: options.name, mlflow: container.mlflow.forLaunches() }, {
          ...output,
          warning: (text) => {
            warnings.push(text);
            output.warning?.(text);
          },
        }),
      { terminal: options.terminal, interactive },
    );
    // A code difference matters for reproducibility: say it where the user looks, not only in the terminal.
    for (const warning of warnings) void vscode.window.showWarningMessage(`Runboard: re-running run ${original.id}: ${warning}`);
    const run = options.wait ? await handle.done : (store.run(handle.run.id) ?? handle.run);
    return { runId: run.id, run };
  },
};
