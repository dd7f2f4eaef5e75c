// A stand-in extension for the Compare panel's real-host test: the Services contract over a store
// in the test workspace, and registerCompare. Bundled by run.mjs; exports what the suite inspects.
import * as vscode from 'vscode';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../src/core/store/store.ts';
import type { Services } from '../../../src/services.ts';
import { ComparePanel } from '../../../src/webviews/compare/comparePanel.ts';
import { registerCompare } from '../../../src/webviews/compare/register.ts';

export function activate(context: vscode.ExtensionContext) {
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? tmpdir();
  const dbPath = join(workspace, '.runboard', 'runboard.db');
  let store: Store | undefined;
  const channel = vscode.window.createOutputChannel('Runboard', { log: true });
  /** Warnings and errors the feature logged (webview errors arrive here too). */
  const problems: string[] = [];
  const log = Object.assign(Object.create(channel) as vscode.LogOutputChannel, {
    warn: (message: string) => {
      problems.push(message);
      channel.warn(message);
    },
    error: (message: string | Error) => {
      problems.push(String(message));
      channel.error(message);
    },
  });
  const services: Services = { context, workspace, dbPath, store: async () => (store ??= Store.open(dbPath)), log };
  context.subscriptions.push(...registerCompare(services), { dispose: () => store?.close() });
  return { ComparePanel, services, problems };
}

export function deactivate(): void {}
