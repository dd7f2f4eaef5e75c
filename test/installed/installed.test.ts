import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { RunboardApi } from '../../src/vscode/extension.ts';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';

// Runs in a VS Code whose only Runboard is the VSIX that scripts/test-installed.mjs packaged for
// this platform and installed with --install-extension: what a user gets, not the source folder.
const extensionsDir = process.env.RUNBOARD_EXTENSIONS_DIR ?? '';

describe('the installed VSIX', () => {
  let extension: vscode.Extension<RunboardApi>;
  let api: RunboardApi;

  before(async () => {
    const found = vscode.extensions.getExtension<RunboardApi>('runboard.runboard');
    assert.ok(found, 'runboard.runboard is not installed in this host');
    extension = found;
    api = await extension.activate();
  });

  it('is the copy from the extensions folder, with only this platform’s SQLite binary', () => {
    assert.ok(extensionsDir, 'RUNBOARD_EXTENSIONS_DIR is not set');
    const inside = relative(extensionsDir, extension.extensionPath);
    assert.ok(inside && !inside.startsWith('..') && !inside.includes(`..${sep}`), `${extension.extensionPath} is not under ${extensionsDir}`);
    const prebuilds = readdirSync(join(extension.extensionPath, 'node_modules', 'better-sqlite3', 'prebuilds'));
    assert.deepEqual(prebuilds, [`${process.platform}-${process.arch}.node`]);
  });

  it('opens the workspace database and records a launched run with its metrics', async () => {
    const store = await api.container.store();
    const result = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { profile: 'train', params: { epochs: 3 }, wait: true });
    assert.ok(result, 'runboard.launchRun returned nothing');
    const run = store.run(result.runId);
    assert.equal(run?.status, 'finished');
    assert.ok(Object.keys(store.summaries(result.runId)).length > 0, 'the run recorded no metric');
  });
});
