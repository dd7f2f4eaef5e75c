import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { addScriptProfile, profileKeyOffset, profilesPath } from '../../core/launch/profiles.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/**
 * Create Launch Profile: a profile that runs the Python file given (Explorer) or being edited,
 * added to `.runboard/profiles.json` (created when missing) and saved, so it is launchable at
 * once. Without a Python file it opens the profiles (from a template when there are none).
 */
export const createProfileCommand: CommandSpec = {
  id: COMMANDS.createProfile,
  async run(container, _views, ...args): Promise<string | undefined> {
    container.requireWorkspace();
    const given = args[0] instanceof vscode.Uri ? args[0] : undefined;
    const active = vscode.window.activeTextEditor?.document;
    const script = given ?? (active && active.uri.scheme === 'file' && active.uri.fsPath.endsWith('.py') ? active.uri : undefined);
    const inside = script && relative(container.workspace, script.fsPath);
    if (!script || !inside || inside.startsWith('..')) return vscode.commands.executeCommand<string>(COMMANDS.openProfiles);

    const file = vscode.Uri.file(profilesPath(container.workspace));
    // Unsaved edits of profiles.json are the user's latest word: add to them. Otherwise the file
    // on disk is, whatever copy an editor still holds.
    const edited = vscode.workspace.textDocuments.find((document) => document.uri.fsPath === file.fsPath && document.isDirty);
    const text = edited ? edited.getText() : existsSync(file.fsPath) ? readFileSync(file.fsPath, 'utf8') : undefined;
    const added = addScriptProfile(text, inside.split(sep).join('/'));
    if (!added.existed && edited) {
      const edit = new vscode.WorkspaceEdit();
      edit.replace(file, new vscode.Range(edited.positionAt(0), edited.positionAt(edited.getText().length)), added.text);
      await vscode.workspace.applyEdit(edit);
      await edited.save();
    } else if (!added.existed) {
      mkdirSync(dirname(file.fsPath), { recursive: true });
      await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(added.text));
    }
    const document = edited ?? (await vscode.workspace.openTextDocument(file));
    const at = document.positionAt(profileKeyOffset(document.getText(), added.name) ?? 0);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(at, at) });
    void vscode.window.showInformationMessage(
      added.existed ? `Runboard: profile "${added.name}" already runs ${inside}.` : `Runboard: added profile "${added.name}" for ${inside}; add its params to launch it with choices.`,
    );
    return added.name;
  },
};
