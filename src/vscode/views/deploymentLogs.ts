import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readRecords } from '../../core/deploy/stats.ts';
import type { Deployment } from '../../core/deploy/types.ts';
import type { Container } from '../container.ts';

/** Read-only documents of a deployment's logs: `runboard-deployment-logs:/<id>/deployment-<id>.log`. */
export const DEPLOYMENT_LOGS_SCHEME = 'runboard-deployment-logs';
/** The end of each server log shown, and the requests listed. */
const LOG_BYTES = 256 * 1024;
const REQUESTS_SHOWN = 200;

export const deploymentLogsUri = (id: number): vscode.Uri => vscode.Uri.from({ scheme: DEPLOYMENT_LOGS_SCHEME, path: `/${id}/deployment-${id}.log` });

/**
 * One document per deployment with the model server's own output (server.out, server.err and
 * any other *.log of its folder) and its recent requests, one line each. Show Logs opens it and
 * asks for fresh content each time.
 */
export class DeploymentLogs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly container: Container;

  constructor(container: Container) {
    this.container = container;
  }

  /** Re-reads an open document. */
  refresh(id: number): void {
    this.emitter.fire(deploymentLogsUri(id));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = Number(/^\/(\d+)\//.exec(uri.path)?.[1]);
    if (!Number.isInteger(id)) return `Not a deployment log: ${uri.toString()}\n`;
    const d = (await this.container.deploymentRecords()).find(id);
    if (!d) return `Deployment ${id} no longer exists.\n`;
    return deploymentLogText(d);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export function deploymentLogText(d: Deployment): string {
  const out: string[] = [`# Deployment ${d.id}: ${d.model}@${d.version} → ${d.target} (${d.status})${d.url ? ` ${d.url}` : ''}`];
  if (d.error) out.push(`# Error: ${d.error}`);
  if (d.message) out.push(`# ${d.message}`);
  const files = d.dir && existsSync(d.dir) ? readdirSync(d.dir).filter((f) => f === 'server.out' || f === 'server.err' || f.endsWith('.log')).sort() : [];
  if (!d.dir || files.length === 0) out.push('', `# No server log on this machine${d.dir ? ` (${d.dir})` : ''}.`);
  for (const file of files) {
    const text = tail(join(d.dir!, file), LOG_BYTES);
    out.push('', `## ${file}${text.cut ? ' (end)' : ''}`, text.text.trimEnd() || '(empty)');
  }
  const requestLog = typeof d.config.requestLog === 'string' ? d.config.requestLog : undefined;
  if (requestLog) {
    const { records, skipped } = readRecords(requestLog, { maxBytes: LOG_BYTES });
    const shown = records.slice(-REQUESTS_SHOWN);
    out.push('', `## Requests (${shown.length < records.length ? `last ${shown.length} of ${records.length}` : records.length}${skipped ? `, ${skipped} unreadable lines` : ''})`);
    for (const r of shown) out.push(`${new Date(r.time).toISOString()} ${r.method} ${r.path} ${r.status} ${r.latency_ms.toFixed(1)} ms ${r.batch} row${r.batch === 1 ? '' : 's'}`);
    if (records.length === 0) out.push('(none yet)');
  }
  return `${out.join('\n')}\n`;
}

function tail(file: string, bytes: number): { text: string; cut: boolean } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    return length < size ? { text: text.slice(text.indexOf('\n') + 1), cut: true } : { text, cut: false };
  } finally {
    closeSync(fd);
  }
}
