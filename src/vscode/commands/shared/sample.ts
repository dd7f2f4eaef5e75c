// No `vscode` import: reading a sample request from a run's data is plain Node, tested as such.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';

/** What Test Endpoint sends, and where it came from (shown beside the response). */
export interface Sample {
  instances: number[][];
  /** e.g. `first 3 rows of data/train.csv without its "label" column`. */
  source: string;
}

/** Column names taken for the label (dropped from the sample). */
const LABEL = /^(label|labels|target|targets|y|class|outcome)$/i;
const READ_BYTES = 64 * 1024;
export const SAMPLE_ROWS = 3;

/**
 * The first rows of a CSV (or TSV) minus its label column, as numbers. With a header, the label is
 * the column named label, target, y, class or outcome, else the last one; without a header it is
 * the last column (scikit-learn-style data). Rows with anything but numbers are skipped. Undefined
 * when no numeric row is left.
 */
export function sampleFromCsv(file: string, rows = SAMPLE_ROWS, shownAs = file): Sample | undefined {
  const text = head(file, READ_BYTES);
  const separator = extname(file).toLowerCase() === '.tsv' ? '\t' : ',';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  // The last line may be cut by the read.
  if (text.length >= READ_BYTES) lines.pop();
  if (lines.length === 0) return undefined;
  const split = (line: string) => line.split(separator).map((cell) => cell.trim().replace(/^"(.*)"$/, '$1'));
  const first = split(lines[0]!);
  const header = first.some((cell) => !isNumber(cell)) ? first : undefined;
  const width = first.length;
  if (width < 2) return undefined;
  const named = header ? header.findIndex((name) => LABEL.test(name)) : -1;
  const label = named >= 0 ? named : width - 1;
  const instances: number[][] = [];
  for (const line of lines.slice(header ? 1 : 0)) {
    const cells = split(line);
    if (cells.length !== width) continue;
    const features = cells.filter((_, i) => i !== label);
    if (!features.every(isNumber)) continue;
    instances.push(features.map(Number));
    if (instances.length >= rows) break;
  }
  if (instances.length === 0) return undefined;
  const column = header ? `its "${header[label]}" column` : `its last column (taken for the label)`;
  return { instances, source: `first ${instances.length} row${instances.length === 1 ? '' : 's'} of ${shownAs} without ${column}` };
}

/** The first CSV/TSV among a run's inputs that is still on disk, as a sample. */
export function sampleFromInputs(inputs: readonly { path: string }[], workspace: string, rows = SAMPLE_ROWS): Sample | undefined {
  for (const input of inputs) {
    if (!/\.(csv|tsv)$/i.test(input.path)) continue;
    const file = isAbsolute(input.path) ? input.path : resolve(workspace, input.path);
    if (!existsSync(file)) continue;
    const sample = sampleFromCsv(file, rows, input.path);
    if (sample) return sample;
  }
  return undefined;
}

/**
 * A request body typed by the user: `{"instances": [[…], …]}`, or just the rows. Throws an Error
 * saying what is wrong (shown as the input box's validation message).
 */
export function parseInstances(text: string): number[][] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`Not JSON: ${(err as Error).message}`);
  }
  const rows = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? (value as { instances?: unknown }).instances : undefined;
  if (!Array.isArray(rows) || rows.length === 0) throw new Error('Give {"instances": [[1.0, 2.0], …]}: a non-empty list of rows');
  if (!rows.every((row) => Array.isArray(row) && row.length > 0 && row.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw new Error('Every row must be a non-empty list of numbers');
  }
  return rows as number[][];
}

const isNumber = (cell: string): boolean => cell !== '' && Number.isFinite(Number(cell));

function head(file: string, bytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
