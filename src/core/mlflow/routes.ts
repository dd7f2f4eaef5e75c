import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Store } from '../store/store.ts';

/**
 * The shape every MLflow endpoint shares. Endpoints live in route lists by area (tracking.ts,
 * artifacts.ts, registry.ts…) gathered in routeTable.ts; the server (server.ts) only dispatches.
 */
export interface MlflowRequest {
  method: string;
  /** The URL's path, decoded: `/api/2.0/mlflow/runs/get`. */
  path: string;
  query: URLSearchParams;
  /** The JSON body's fields (POST, PATCH, DELETE), or the query string's for a GET. */
  fields: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** For routes with `stream: true` only: the unread request body (an artifact's bytes). */
  stream?: IncomingMessage;
}

export interface MlflowContext {
  store: Store;
}

export interface MlflowReply {
  /** 200 unless given. */
  status?: number;
  /** Sent as JSON, with NaN and ±Inf as "NaN", "Infinity", "-Infinity" (see mlflowJson). */
  json?: unknown;
  /** Raw bytes or a stream instead of JSON (an artifact's contents). */
  body?: Buffer | string | Readable;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface MlflowRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The full path; with `prefix: true`, any path starting with it (artifact paths). */
  path: string;
  prefix?: boolean;
  /** Leaves the body unread and unlimited, as `request.stream`, instead of parsing JSON. */
  stream?: boolean;
  handle(request: MlflowRequest, context: MlflowContext): Promise<MlflowReply> | MlflowReply;
}

/** MLflow's error codes and the HTTP status each maps to (mlflow/exceptions.py). */
const STATUS_OF_CODE: Record<string, number> = {
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  ENDPOINT_NOT_FOUND: 404,
  RESOURCE_DOES_NOT_EXIST: 404,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  INVALID_PARAMETER_VALUE: 400,
  INVALID_STATE: 500,
};

/** An error an MLflow client understands: answered as `{"error_code", "message"}` with its status. */
export class MlflowError extends Error {
  override name = 'MlflowError';
  readonly errorCode: string;
  readonly httpStatus: number;

  constructor(errorCode: string, message: string, httpStatus = STATUS_OF_CODE[errorCode] ?? 400) {
    super(message);
    this.errorCode = errorCode;
    this.httpStatus = httpStatus;
  }

  toJSON(): { error_code: string; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const API = '/api/2.0/mlflow';
export const ARTIFACTS_API = '/api/2.0/mlflow-artifacts';

/** A string field, or undefined when absent; a non-string is INVALID_PARAMETER_VALUE. */
export function optionalString(request: MlflowRequest, name: string): string | undefined {
  const value = request.fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(value)} for parameter '${name}' supplied. Hint: Value was of type '${typeof value}'. See the API docs for more information about request parameters.`);
  }
  return value;
}

/** A required string field, worded as MLflow's request validation words a missing one. */
export function requiredString(request: MlflowRequest, name: string): string {
  const value = optionalString(request, name);
  if (value === undefined || value === '') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
  }
  return value;
}

/** The run id of a request: clients send `run_id`, older ones `run_uuid`, most both. */
export function runIdField(request: MlflowRequest): string {
  return optionalString(request, 'run_id') || requiredString(request, 'run_uuid');
}
