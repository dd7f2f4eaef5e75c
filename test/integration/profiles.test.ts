import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import { QuickInputs, runboard, waitFor } from './helpers.ts';

describe('a broken launch profile', () => {
  let file: string;
  let original: string;

  before(async () => {
    const api = await runboard();
    file = join(api.container.workspace, '.runboard', 'profiles.json');
    original = readFileSync(file, 'utf8');
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await writeProfiles(original);
  });

  /**
   * Writes profiles.json as another program would, then waits until VS Code holds it as written.
   * VS Code keeps a closed file's model for a while and reloads it on its watcher's event: an
   * edit saved before then meets "File Modified Since" (seen once in a whole-suite run).
   */
  async function writeProfiles(text: string): Promise<void> {
    writeFileSync(file, text);
    await waitFor('VS Code to hold profiles.json as written', () => vscode.workspace.textDocuments.every((d) => d.uri.fsPath !== file || d.getText() === text));
  }

  const withBroken = () => {
    const json = JSON.parse(original) as { profiles: Record<string, unknown> };
    json.profiles.broken = { command: ['python3', 'train.py', '--lr', '${param:lrr}'] };
    return JSON.stringify(json, null, 2);
  };

  it('shows in the Problems panel while the file is edited, on the broken profile', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(document);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), withBroken());
    assert.ok(await vscode.workspace.applyEdit(edit));
    const diagnostic = await waitFor('a Runboard diagnostic on the unsaved edit', () =>
      vscode.languages.getDiagnostics(document.uri).find((d) => d.source === 'Runboard' && /param:lrr/.test(d.message)),
    );
    assert.equal(document.getText(diagnostic.range), '"broken"');
    const undo = new vscode.WorkspaceEdit();
    undo.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), original);
    assert.ok(await vscode.workspace.applyEdit(undo));
    await waitFor('the diagnostic to go once the edit is undone', () => !vscode.languages.getDiagnostics(document.uri).some((d) => d.source === 'Runboard'));
    await document.save();
  });

  it('leaves the other profiles launchable, and the pick lists it with its error and opens it', async () => {
    await writeProfiles(withBroken());
    const launched = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { profile: 'train', params: { epochs: 1 }, wait: true, terminal: false });
    assert.equal(launched?.run.status, 'finished');

    const prompts = new QuickInputs();
    try {
      const picking = vscode.commands.executeCommand('runboard.launchRun');
      const picked = await prompts.answer(1); // train, then the broken one
      assert.match(String((picked.focused as vscode.QuickPickItem | undefined)?.label), /broken/);
      assert.equal(await picking, undefined, 'picking the broken profile launches nothing');
    } finally {
      prompts.dispose();
    }
    const editor = await waitFor('profiles.json to open', () => vscode.window.activeTextEditor?.document.uri.fsPath === file && vscode.window.activeTextEditor);
    const line = editor.document.lineAt(editor.selection.active.line).text;
    assert.match(line, /"broken"\s*:/);
  });

  it('Create Launch Profile adds one for the Python file being edited, saved and launchable', async () => {
    const api = await runboard();
    const script = vscode.Uri.file(join(api.container.workspace, 'sk_train.py'));
    await vscode.window.showTextDocument(script);
    const name = await vscode.commands.executeCommand<string>('runboard.createProfile');
    assert.equal(name, 'sk_train');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { profiles: Record<string, { command: string[] }> };
    assert.deepEqual(saved.profiles.sk_train?.command, ['${interpreter}', 'sk_train.py']);
    assert.ok(saved.profiles.train, 'the existing profile is kept');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file);
  });
});
