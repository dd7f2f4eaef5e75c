import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { deploymentLogsUri } from '../views/deploymentLogs.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';
import { deploymentIdOf } from './stopDeployment.ts';

/** Show Logs: the model server's output and its recent requests, in a read-only document. */
export const showDeploymentLogsCommand: CommandSpec = {
  id: COMMANDS.showDeploymentLogs,
  async run(_container, views, arg): Promise<vscode.TextDocument> {
    const id = deploymentIdOf(arg);
    if (id === undefined) throw new UserError('Show Logs needs a deployment: run it from the Deployments view');
    const uri = deploymentLogsUri(id);
    // An already open document shows its old content until asked again.
    views.deploymentLogs.refresh(id);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  },
};
