import type { Store } from '../store/store.ts';
import { runOf } from './ids.ts';
import { API, MlflowError, type MlflowRequest, type MlflowRoute } from './routes.ts';
import { activeRun } from './artifacts.ts';
import { writableRun } from './readOnly.ts';

/** One dataset as MLflow sends it (mlflow/protos/service.proto `Dataset`); the JSON fields are strings of JSON. */
interface MlflowDataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  profile?: string;
}

const invalid = (message: string): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', message);

/**
 * `runs/log-inputs`: each dataset becomes a Runboard input of the run, with its lineage edge. Its
 * path is where the data came from when the source names a place (`uri`, `url`, `path`), else the
 * dataset's name; its fingerprint is MLflow's digest, so the same data logged by two runs is one
 * dataset; its size the bytes the profile counts (`*_nbytes`), else 0.
 */
function logInputs(request: MlflowRequest, { store }: { store: Store }) {
  const run = writableRun(store, activeRun(runOf(store, requiredRunId(request))));
  const datasets = request.fields.datasets;
  if (!Array.isArray(datasets)) throw invalid(`Missing value for required parameter 'datasets'. See the API docs for more information about request parameters.`);
  const inputs = datasets.map((entry: unknown) => toInput(entry));
  store.transaction(() => {
    for (const input of inputs) store.addInput(run.id, input);
  });
  return { json: {} };
}

function requiredRunId(request: MlflowRequest): string {
  const id = request.fields.run_id;
  if (typeof id !== 'string' || id === '') throw invalid(`Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.`);
  return id;
}

function toInput(entry: unknown): { path: string; fingerprint: string; size: number } {
  const dataset = (entry as { dataset?: Partial<MlflowDataset> } | null)?.dataset;
  for (const field of ['name', 'digest', 'source_type', 'source'] as const) {
    if (typeof dataset?.[field] !== 'string' || dataset[field] === '') throw invalid(`Dataset is missing its '${field}'`);
  }
  const { name, digest, source, profile } = dataset as MlflowDataset;
  return { path: sourcePlace(source) ?? name, fingerprint: digest, size: profileBytes(profile) };
}

const parseObject = (text: string | undefined): Record<string, unknown> => {
  try {
    const value: unknown = text === undefined ? undefined : JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

function sourcePlace(source: string): string | undefined {
  const fields = parseObject(source);
  const place = fields.uri ?? fields.url ?? fields.path;
  return typeof place === 'string' && place !== '' ? place : undefined;
}

function profileBytes(profile: string | undefined): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(parseObject(profile))) {
    if (key.endsWith('_nbytes') && typeof value === 'number' && Number.isFinite(value) && value > 0) bytes += value;
  }
  return Math.trunc(bytes);
}

export const inputRoutes: readonly MlflowRoute[] = [{ method: 'POST', path: `${API}/runs/log-inputs`, handle: logInputs }];
