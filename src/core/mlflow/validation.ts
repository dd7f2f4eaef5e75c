// MLflow's own checks and messages, worded as in mlflow/utils/validation.py (v2.12.2), so that a
// client shows the same errors whichever server it talks to.
import { posix } from 'node:path';
import { MlflowError } from './routes.ts';

export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_ENTITIES_PER_BATCH = 1000;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 5000;
export const MAX_EXPERIMENT_TAG_KEY_LENGTH = 250;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000;
export const MAX_ENTITY_KEY_LENGTH = 250;

// Python's \w is Unicode-aware: letters and digits of any script.
const VALID_NAME = /^[/\p{L}\p{N}_.\- ]*$/u;
const BAD_CHARACTERS = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).';
const MISSING_KEY_NAME = 'A key name must be provided.';

const invalid = (message: string): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', message);

/** Python's posixpath.normpath, for the names MLflow refuses because they would resolve elsewhere. */
function normpath(name: string): string {
  const normalized = posix.normalize(name);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

function pathNotUnique(name: string): boolean {
  const norm = normpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

/** A metric, param or tag name as MLflow accepts it. */
export function validateName(kind: 'metric' | 'parameter' | 'tag', name: unknown): string {
  const label = kind === 'metric' ? 'Metric' : kind === 'parameter' ? 'Parameter' : 'Tag';
  if (name === undefined || name === null) throw invalid(`${label} name cannot be None. ${MISSING_KEY_NAME}`);
  const text = String(name);
  if (!VALID_NAME.test(text)) throw invalid(`Invalid ${kind} name: '${text}'. ${BAD_CHARACTERS}`);
  if (pathNotUnique(text)) {
    throw invalid(
      `Invalid ${kind} name: '${text}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normpath(text)}'`,
    );
  }
  return text;
}

/** Length in characters (code points), as Python counts. */
const charCount = (text: string, limit: number): number => (text.length <= limit ? text.length : [...text].length);

/**
 * MLflow's length limit: values it may truncate (params, run tags; MLFLOW_TRUNCATE_LONG_VALUES is on
 * by default) are cut to the limit, anything else too long is refused.
 */
export function lengthLimit(entity: string, limit: number, value: string, truncate = false): string {
  const length = charCount(value, limit);
  if (length <= limit) return value;
  if (truncate) return [...value].slice(0, limit).join('');
  throw invalid(`${entity} '${[...value].slice(0, 250).join('')}' had length ${length}, which exceeded length limit of ${limit}`);
}

export function batchLimit(entity: string, limit: number, length: number): void {
  if (length > limit) {
    throw invalid(`A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`);
  }
}

/** Python's repr of a string, for messages MLflow builds from Python lists. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  return quote + text.replace(/\\/g, '\\\\').replaceAll(quote, `\\${quote}`).replace(/\n/g, '\\n') + quote;
}

/** The double a client sent: a number, or a string (protobuf's JSON spells NaN and ±Inf so). */
export function metricValue(value: unknown, key: string, timestamp: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
    const number = Number(value);
    if (!Number.isNaN(number)) return number;
  }
  throw invalid(`Got invalid value ${String(value)} for metric '${key}' (timestamp=${String(timestamp)}). Please specify value as a valid double (64-bit floating point)`);
}

/** An int64 field: a number or a decimal string (protobuf's JSON may send either). */
export function intLike(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** One metric of a log-metric or log-batch request, checked as MLflow's _validate_metric does. */
export function validateMetric(fields: { key?: unknown; value?: unknown; timestamp?: unknown; step?: unknown }): MetricInput {
  const key = validateName('metric', fields.key);
  const value = metricValue(fields.value, key, fields.timestamp);
  const timestamp = intLike(fields.timestamp);
  if (timestamp === undefined || timestamp < 0) {
    throw invalid(`Got invalid timestamp ${String(fields.timestamp)} for metric '${key}' (value=${String(fields.value)}). Timestamp must be a nonnegative long (64-bit integer) `);
  }
  const step = fields.step === undefined || fields.step === null ? 0 : intLike(fields.step);
  if (step === undefined) {
    throw invalid(`Got invalid step ${String(fields.step)} for metric '${key}' (value=${String(fields.value)}). Step must be a valid long (64-bit integer).`);
  }
  lengthLimit('Metric name', MAX_ENTITY_KEY_LENGTH, key);
  return { key, value, timestamp, step };
}

export function validateParam(fields: { key?: unknown; value?: unknown }): { key: string; value: string } {
  const key = validateName('parameter', fields.key);
  return {
    key: lengthLimit('Param key', MAX_ENTITY_KEY_LENGTH, key),
    value: lengthLimit('Param value', MAX_PARAM_VAL_LENGTH, textOf(fields.value), true),
  };
}

export function validateTag(fields: { key?: unknown; value?: unknown }): { key: string; value: string } {
  const key = validateName('tag', fields.key);
  return {
    key: lengthLimit('Tag key', MAX_ENTITY_KEY_LENGTH, key),
    value: lengthLimit('Tag value', MAX_TAG_VAL_LENGTH, textOf(fields.value), true),
  };
}

export function validateExperimentTag(fields: { key?: unknown; value?: unknown }): { key: string; value: string } {
  const key = validateName('tag', fields.key);
  const value = textOf(fields.value);
  lengthLimit('Tag key', MAX_EXPERIMENT_TAG_KEY_LENGTH, key);
  lengthLimit('Tag value', MAX_EXPERIMENT_TAG_VAL_LENGTH, value);
  return { key, value };
}

/** A proto string field: absent is "". */
const textOf = (value: unknown): string => (value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value));
