import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { readFeedback, readProfile, readRows } from './files.ts';
import { monitorDirOf } from './monitor.ts';

export interface ExportResult {
  rows: number;
  labeled: number;
  columns: string[];
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The served rows the deployment still keeps (its ring of recent rows) as CSV text: id, time,
 * one column per feature, the prediction and the label given to /feedback (empty when none);
 * with `labeledOnly`, only rows that have a label.
 */
export function servedRowsCsv(store: Store, deploymentId: number, options: { labeledOnly?: boolean } = {}): { text: string; result: ExportResult } {
  const record = store.deployments.get(deploymentId);
  if (!record) throw new UserError(`No deployment "${deploymentId}". List them with: runboard deployments`);
  const dir = monitorDirOf(JSON.parse(record.config) as Record<string, unknown>);
  if (!dir) throw new UserError(`Deployment ${deploymentId} keeps no served rows (it was not served by the local model server with monitoring on)`);
  const labels = new Map(readFeedback(dir).map((f) => [f.id, f.label]));
  const rows = readRows(dir).filter((r) => !options.labeledOnly || labels.has(r.id));
  const width = rows.reduce((n, r) => Math.max(n, r.x.length), 0);
  const names = readProfile(dir)?.features.map((f) => f.name);
  const features = names && names.length === width ? names : Array.from({ length: width }, (_, j) => `f${j}`);
  const columns = ['id', 'time', ...features, 'prediction', 'label'];
  const lines = [columns.map(field).join(',')];
  let labeled = 0;
  for (const r of rows) {
    if (labels.has(r.id)) labeled++;
    lines.push([r.id, new Date(r.t).toISOString(), ...Array.from({ length: width }, (_, j) => r.x[j]), r.y, labels.get(r.id)].map(field).join(','));
  }
  return { text: `${lines.join('\n')}\n`, result: { rows: rows.length, labeled, columns } };
}
