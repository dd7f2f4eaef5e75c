import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { lintProfiles } from '../core/launch/profileLint.ts';
import { profilesPath } from '../core/launch/profiles.ts';
import type { Container } from './container.ts';
import { Disposable } from './lifecycle.ts';

/** Typing pauses this long before profiles.json is checked again. */
const LINT_DELAY_MS = 250;

/**
 * Semantic problems of `.runboard/profiles.json` in the Problems panel, as the user types: an
 * unknown `${param:…}`, a gate on a metric no run logged, everything the launcher would refuse.
 * The JSON schema already covers shapes and types; this covers what a schema cannot know.
 */
export class ProfileDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('runboard-profiles'));
  private readonly file: vscode.Uri;
  private readonly container: Container;
  private pending: NodeJS.Timeout | undefined;

  constructor(container: Container) {
    super();
    this.container = container;
    this.file = vscode.Uri.file(profilesPath(container.workspace));
    this._register(vscode.workspace.onDidOpenTextDocument((document) => this.lintDocument(document)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    // Closed unsaved edits are gone: what counts again is the file on disk.
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.isProfiles(document) && this.lintDisk()));
    this._register(container.onDidOpenStore(() => this.lintCurrent()));
    this._register({ dispose: () => clearTimeout(this.pending) });
    this.lintCurrent();
  }

  private isProfiles(document: vscode.TextDocument): boolean {
    return document.uri.scheme === 'file' && document.uri.fsPath === this.file.fsPath;
  }

  private lintCurrent(): void {
    const open = vscode.workspace.textDocuments.find((document) => this.isProfiles(document));
    if (open) this.lintDocument(open);
    else this.lintDisk();
  }

  private schedule(document: vscode.TextDocument): void {
    if (!this.isProfiles(document)) return;
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.lintDocument(document), LINT_DELAY_MS);
  }

  private lintDocument(document: vscode.TextDocument): void {
    if (!this.isProfiles(document)) return;
    this.collection.set(this.file, this.diagnostics(document.getText(), (offset) => document.positionAt(offset)));
  }

  private lintDisk(): void {
    if (!this.container.workspace || !existsSync(this.file.fsPath)) {
      this.collection.delete(this.file);
      return;
    }
    let text: string;
    try {
      text = readFileSync(this.file.fsPath, 'utf8');
    } catch {
      return; // An unreadable file is reported when something launches from it.
    }
    const lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
    const positionAt = (offset: number): vscode.Position => {
      let line = lineStarts.length - 1;
      while (lineStarts[line]! > offset) line--;
      return new vscode.Position(line, offset - lineStarts[line]!);
    };
    this.collection.set(this.file, this.diagnostics(text, positionAt));
  }

  private diagnostics(text: string, positionAt: (offset: number) => vscode.Position): vscode.Diagnostic[] {
    const metrics = this.container.openStore?.metricKeys() ?? [];
    return lintProfiles(text, metrics).map((finding) => {
      const range = new vscode.Range(positionAt(finding.offset), positionAt(finding.offset + finding.length));
      const diagnostic = new vscode.Diagnostic(range, finding.message, finding.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'Runboard';
      return diagnostic;
    });
  }
}
