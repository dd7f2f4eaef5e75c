import * as vscode from 'vscode';
import { LIVE_STATUSES } from '../../core/deploy/types.ts';
import { UserError } from '../../core/errors.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';
import { parseInstances } from './shared/sample.ts';
import { deploymentOfRequest, send, tokenOf, type TestEndpointResult } from './testEndpoint.ts';

/**
 * Send Test Request: POSTs the request file being edited (opened by Test Endpoint) to its
 * deployment and shows the answer read-only. Unsaved edits are sent, and saved.
 */
export const sendTestRequestCommand: CommandSpec = {
  id: COMMANDS.sendTestRequest,
  async run(container, _views, ...args): Promise<TestEndpointResult | undefined> {
    const uri = args[0] instanceof vscode.Uri ? args[0] : vscode.window.activeTextEditor?.document.uri;
    const id = uri && deploymentOfRequest(container.workspace, uri.fsPath);
    if (!uri || id === undefined) throw new UserError('Send Test Request sends a request opened by Runboard: Test Endpoint…');
    const document = await vscode.workspace.openTextDocument(uri);
    let instances: number[][];
    try {
      instances = parseInstances(document.getText());
    } catch (err) {
      throw new UserError(`The request to deployment ${id} cannot be sent: ${(err as Error).message}`);
    }
    if (document.isDirty) await document.save();
    const deployments = await container.deploymentRecords();
    const d = deployments.get(id);
    if (!LIVE_STATUSES.includes(d.status) || !d.url) throw new UserError(`Deployment ${d.id} (${d.model}@${d.version}) is ${d.status}: nothing answers there`);
    const token = await tokenOf(container, d, undefined);
    if (token === undefined) return undefined;
    return send(container, { ...d, url: d.url }, token, { instances, source: vscode.workspace.asRelativePath(uri) }, true);
  },
};
