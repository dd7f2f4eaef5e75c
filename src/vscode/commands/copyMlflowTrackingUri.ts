import * as vscode from 'vscode';
import { exportLine, mlflowClientEnv } from '../../core/mlflow/launchEnv.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

const COPY_EXPORT = 'Copy export line';

/**
 * Copies the window's MLflow tracking URI (starting the server if needed) and offers the shell line
 * that also sets the token, for a shell outside VS Code. Returns the URI; `{ quiet: true }` skips
 * the offer (tests, other extensions).
 */
export const copyMlflowTrackingUriCommand: CommandSpec = {
  id: COMMANDS.copyMlflowTrackingUri,
  async run(container, _views, options?: unknown): Promise<string> {
    container.requireWorkspace();
    const endpoint = await container.mlflow.endpoint();
    await vscode.env.clipboard.writeText(endpoint.url);
    if ((options as { quiet?: boolean } | undefined)?.quiet) return endpoint.url;
    const choice = await vscode.window.showInformationMessage(
      `Copied ${endpoint.url}. MLflow clients also need its token (MLFLOW_TRACKING_TOKEN); new terminals of this window have both.`,
      COPY_EXPORT,
    );
    if (choice === COPY_EXPORT) await vscode.env.clipboard.writeText(exportLine(mlflowClientEnv(endpoint)));
    return endpoint.url;
  },
};
