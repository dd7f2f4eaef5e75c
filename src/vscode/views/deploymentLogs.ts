import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Deployment } from '../../core/deploy/types.ts';
import { readEnd } from '../../core/io/tail.ts';
import { readRecords } from '../../core/monitor/requestLog.ts';
import type { Container } from '../container.ts';
import { Disposable } from '../lifecycle.ts';

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
export class DeploymentLogs extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly emitter = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.emitter.event;
  private readonly container: Container;

  constructor(container: Container) {
    super();
    this.container = container;
  }

  /** Re-reads an open document. */
  refresh(id: number): void {
    this.emitter.fire(deploymentLogsUri(id));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = Number(/^\/(\d+)\//.exec(uri.path)?.[1]);
    if (!Number.isInteger(id)) return `Not a deployment log: ${uri.toString()}\n`;
    const deployments = await this.container.deploymentRecords();
    const d = deployments.find(id);
    if (!d) return `Deployment ${id} no longer exists.\n`;
    return deploymentLogText(d, deployments.requestLog(d));
  }
}

export function deploymentLogText(d: Deployment, requestLog: string | undefined): string {
  const out: string[] = [`# Deployment ${d.id}: ${d.model}@${d.version} → ${d.target} (${d.status})${d.url ? ` ${d.url}` : ''}`];
  if (d.error) out.push(`# Error: ${d.error}`);
  if (d.message) out.push(`# ${d.message}`);
  const files = d.dir && existsSync(d.dir) ? readdirSync(d.dir).filter((f) => f === 'server.out' || f === 'server.err' || f.endsWith('.log')).sort() : [];
  if (!d.dir || files.length === 0) out.push('', `# No server log on this machine${d.dir ? ` (${d.dir})` : ''}.`);
  for (const file of files) {
    // A log removed between the listing and the read shows as empty.
    const end = readEnd(join(d.dir!, file), LOG_BYTES);
    out.push('', `## ${file}${end?.cut ? ' (end)' : ''}`, end?.text.trimEnd() || '(empty)');
  }
  if (requestLog) {
    const { records, skipped } = readRecords(requestLog, { maxBytes: LOG_BYTES });
    const shown = records.slice(-REQUESTS_SHOWN);
    out.push('', `## Requests (${shown.length < records.length ? `last ${shown.length} of ${records.length}` : records.length}${skipped ? `, ${skipped} unreadable lines` : ''})`);
    for (const r of shown) out.push(`${new Date(r.time).toISOString()} ${r.method} ${r.path} ${r.status} ${r.latency_ms.toFixed(1)} ms ${r.batch} row${r.batch === 1 ? '' : 's'}`);
    if (records.length === 0) out.push('(none yet)');
  }
  return `${out.join('\n')}\n`;
}
