import { MlflowError } from './routes.ts';

// MLflow's page tokens: base64 of `{"offset": N}` (mlflow/utils/search_utils.py). Clients pass
// them back unread, so the same shape keeps a token from one server meaningful to the other.

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
  } catch {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid page token, decoded value=${Buffer.from(token, 'base64').toString('utf8')}`);
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid page token, parsed value=${JSON.stringify(offset)}`);
  }
  return offset;
}

/** A max_results field: absent gives the default; not a positive integer up to `most` is refused. */
export function maxResults(value: unknown, byDefault: number, most: number, wording: string): number {
  if (value === undefined || value === null || value === '') return byDefault;
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < 1) throw new MlflowError('INVALID_PARAMETER_VALUE', `${wording} but got ${String(value)}`);
  if (number > most) throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid value for max_results. It must be at most ${most}, but got ${number}`);
  return number;
}
