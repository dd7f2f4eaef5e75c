import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One request and its answer as logproxy.py (../shared/mlflow-peer) recorded them from MLflow 2.12.2. */
export interface Sample {
  method: string;
  path: string;
  query: string | null;
  status: number;
  req_ctype: string | null;
  req_body: string | null;
  resp_body: string | null;
}

export const readSamples = (file: string): Sample[] =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'mlflow-wire', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Sample);

/** A value's shape: its type, or for objects and arrays the shapes inside. */
export function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)));
  return typeof value;
}
