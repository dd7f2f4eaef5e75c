import { relative, isAbsolute } from 'node:path';
import * as vscode from 'vscode';

/** The Explorer for a path inside the workspace, the OS file manager otherwise. */
export async function reveal(workspace: string, path: string): Promise<void> {
  const rel = workspace ? relative(workspace, path) : '..';
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  await vscode.commands.executeCommand(inside ? 'revealInExplorer' : 'revealFileInOS', vscode.Uri.file(path));
}
