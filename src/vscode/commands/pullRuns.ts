import * as vscode from 'vscode';
import { pullRuns, type PullSummary } from '../../core/sync/pull.ts';
import { COMMANDS } from '../commandIds.ts';
import { pickRemote, withRemoteClient } from '../sync/remotes.ts';
import type { CommandSpec } from './command.ts';
import { optionsOf } from './shared/args.ts';

/**
 * Pull Runs…: teammates' runs from a remote into the database (they appear in the tree as remote
 * runs), with a cancellable progress notification. `{ experiment }` pulls one experiment.
 */
export const pullRunsCommand: CommandSpec = {
  id: COMMANDS.pullRuns,
  async run(container, _views, ...args): Promise<PullSummary | undefined> {
    const store = await container.store();
    const { experiment } = optionsOf<{ experiment: string }>(args);
    const remote = await pickRemote(container, 'Pull from which MLflow server?');
    if (!remote) return undefined;
    const summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Pulling from ${remote.name}`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return withRemoteClient(container, remote, (client) =>
          pullRuns(store, client, {
            ...(experiment ? { experiment } : {}),
            signal: controller.signal,
            onProgress: ({ experiment: name, runs, points }) => progress.report({ message: `${name}: ${runs} runs, ${points.toLocaleString('en-US')} points` }),
          }),
        );
      },
    );
    const created = summary.runs.filter((r) => r.created).length;
    void vscode.window.showInformationMessage(`Pulled ${created} new and ${summary.runs.length - created} updated runs from ${remote.name}; ${summary.unchanged} unchanged.`);
    return summary;
  },
};
