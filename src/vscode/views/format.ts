import { isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import type { RunStatus } from '../../core/store/types.ts';

/** Short, readable numbers: 4 significant digits, NaN/Inf spelled out. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return x.toExponential(3);
  return Number(x.toPrecision(4)).toString();
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export const formatTime = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toLocaleString());

/** Codicon and theme color per run status; `sync~spin` while a run is live. */
export function statusIcon(status: RunStatus): vscode.ThemeIcon {
  switch (status) {
    case 'queued':
      return new vscode.ThemeIcon('history', new vscode.ThemeColor('testing.iconQueued'));
    case 'running':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('testing.iconQueued'));
    case 'finished':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'killed':
      return new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('testing.iconSkipped'));
    case 'crashed':
      return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    default: {
      const never: never = status;
      return new vscode.ThemeIcon('question', new vscode.ThemeColor(String(never)));
    }
  }
}

/**
 * Markdown built from our own structure with every user-provided string escaped (run names,
 * params, errors and paths come from training scripts and files, never trusted as markdown).
 */
export class SafeMarkdown {
  readonly md = new vscode.MarkdownString('', true);

  constructor() {
    this.md.isTrusted = false;
  }

  /** Our own markdown: never pass user text here. */
  raw(markdown: string): this {
    this.md.appendMarkdown(markdown);
    return this;
  }

  text(value: string): this {
    this.md.appendText(value);
    return this;
  }

  /** `**label:** value` on its own line, the value escaped. */
  field(label: string, value: string): this {
    this.md.appendMarkdown(`**${label}:** `);
    this.md.appendText(value);
    this.md.appendMarkdown('  \n');
    return this;
  }

  /** A fenced block; the content cannot close the fence because it is longer than any run of backticks in it. */
  code(value: string): this {
    const fence = '`'.repeat(Math.max(3, ...[...value.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    this.md.appendMarkdown(`\n${fence}text\n${value}\n${fence}\n`);
    return this;
  }
}

/** A path inside the workspace is shown relative to it. */
export function displayPath(workspace: string, path: string): string {
  if (!workspace || !isAbsolute(path)) return path;
  const prefix = workspace.endsWith('/') ? workspace : `${workspace}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
