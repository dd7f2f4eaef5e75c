import * as vscode from 'vscode';
import { pushRuns, selectRuns, type PushSummary } from '../../core/sync/push.ts';
import { COMMANDS } from '../commandIds.ts';
import { pickRemote, withRemoteClient } from '../sync/remotes.ts';
import type { CommandSpec } from './command.ts';
import { pickRuns } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';

const ALL = 'All runs';

/**
 * Push Runs…: the runs selected in the tree (or picked, or all) to a remote, with a cancellable
 * progress notification. Resolves with the push's summary (undefined when dismissed).
 */
export const pushRunsCommand: CommandSpec = {
  id: COMMANDS.pushRuns,
  async run(container, _views, ...args): Promise<PushSummary | undefined> {
    const store = await container.store();
    let ids = runIdsOfArgs(args);
    if (ids.length === 0) {
      const scope = await vscode.window.showQuickPick([ALL, 'Pick runs…'], { title: 'Push runs' });
      if (!scope) return undefined;
      if (scope !== ALL) {
        const picked = await pickRuns(store, { preselected: [], title: 'Push runs', placeHolder: 'Pick the runs to push' });
        if (!picked?.length) return undefined;
        ids = picked;
      }
    }
    const remote = await pickRemote(container, 'Push to which MLflow server?');
    if (!remote) return undefined;
    const runs = selectRuns(store, ids.length ? { runs: ids.map(String) } : { all: true });
    const summary = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Pushing to ${remote.name}`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return withRemoteClient(container, remote, (client) =>
          pushRuns(store, client, runs, {
            signal: controller.signal,
            onProgress: ({ run, index, total, points }) => progress.report({ message: `run ${index + 1} of ${total} (${run.name}), ${points.toLocaleString('en-US')} points sent` }),
          }),
        );
      },
    );
    const sent = `${summary.sent.runs} run${summary.sent.runs === 1 ? '' : 's'}, ${summary.sent.points.toLocaleString('en-US')} points, ${summary.sent.artifacts} artifacts`;
    if (summary.failure !== undefined) void vscode.window.showErrorMessage(`Push to ${remote.name} stopped: ${summary.failure}. Sent so far (kept; the next push resumes): ${sent}.`);
    else if (summary.problems.length) void vscode.window.showWarningMessage(`Pushed ${sent} to ${remote.name}; left out: ${summary.problems.join('; ')}`);
    else void vscode.window.showInformationMessage(summary.sent.runs ? `Pushed ${sent} to ${remote.name}.` : `Everything was pushed to ${remote.name} already.`);
    return summary;
  },
};
