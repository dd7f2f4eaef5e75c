import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.ts';
import type { Credentials } from './remotes.ts';

export type RemoteFailure = 'unreachable' | 'timeout' | 'auth' | 'server' | 'mlflow';

/** A remote's failure as one line; `errorCode` is MLflow's (`RESOURCE_DOES_NOT_EXIST`…) when it sent one. */
export class RemoteError extends UserError {
  override name = 'RemoteError';
  readonly failure: RemoteFailure;
  readonly status: number | undefined;
  readonly errorCode: string | undefined;

  constructor(failure: RemoteFailure, message: string, status?: number, errorCode?: string) {
    super(message);
    this.failure = failure;
    this.status = status;
    this.errorCode = errorCode;
  }
}

export interface ClientOptions {
  url: string;
  credentials?: Credentials;
  /** Per request; a slow server is a failure, not a hang. */
  timeoutMs?: number;
  /** Attempts after the first, for 5xx answers and network failures. */
  retries?: number;
  /** The first wait between attempts, doubled each time. */
  backoffMs?: number;
}

export interface RequestOptions {
  /**
   * False for requests that add (runs/create, a metric batch): after a timeout or a connection
   * cut mid-answer the server may have stored it, so they are not sent again blindly; the caller
   * finds out what arrived.
   */
  idempotent?: boolean;
}

export const API = '/api/2.0/mlflow';
export const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

/** Network errors where the request never reached the server: safe to send again. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** NaN and ±Inf travel as protobuf's JSON spells them: "NaN", "Infinity", "-Infinity". */
export const mlflowJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

/** A value MLflow sent for a double: a number, or "NaN"/"Infinity"/"-Infinity". */
export const mlflowNumber = (value: unknown): number => (typeof value === 'number' ? value : Number(value));

/**
 * A small MLflow REST client on Node's fetch: every request with a timeout, credentials from
 * MLflow's own variables, retries with backoff for 5xx answers and network failures, and every
 * failure as one line naming its class (unreachable, timeout, refused credentials, server failure,
 * MLflow's error body).
 */
export class MlflowClient {
  readonly url: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(options: ClientOptions) {
    this.url = options.url;
    const credentials = options.credentials;
    this.authorization = !credentials
      ? undefined
      : 'token' in credentials
        ? `Bearer ${credentials.token}`
        : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 500;
  }

  get<T>(endpoint: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, String(value));
    const search = params.size ? `?${params}` : '';
    return this.json<T>('GET', `${API}/${endpoint}${search}`, undefined, { idempotent: true });
  }

  post<T>(endpoint: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('POST', `${API}/${endpoint}`, mlflowJson(body), options);
  }

  /** Uploads a file through the server's artifact proxy (`mlflow-artifacts`); a PUT replaces, so it is safe to repeat. */
  async putArtifact(path: string, body: Buffer): Promise<void> {
    await this.send('PUT', `${ARTIFACTS_API}/${encodePath(path)}`, body, { idempotent: true }, 'application/octet-stream');
  }

  async getArtifact(path: string): Promise<Buffer> {
    const response = await this.send('GET', `${ARTIFACTS_API}/${encodePath(path)}`, undefined, { idempotent: true });
    return Buffer.from(await response.arrayBuffer());
  }

  private async json<T>(method: string, path: string, body: string | undefined, options: RequestOptions): Promise<T> {
    const response = await this.send(method, path, body, options, 'application/json');
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new RemoteError('server', `${this.url} answered ${endpointOf(path)} with something other than JSON (is it an MLflow tracking server?): ${oneLine(text)}`, response.status);
    }
  }

  private async send(method: string, path: string, body: string | Buffer | undefined, options: RequestOptions, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.authorization) headers.Authorization = this.authorization;
    if (body !== undefined && contentType) headers['Content-Type'] = contentType;
    for (let attempt = 0; ; attempt++) {
      let failure: RemoteError;
      let again: boolean;
      try {
        // A Buffer is a Uint8Array; the DOM typings want one over a plain ArrayBuffer.
        const response = await fetch(`${this.url}${path}`, { method, headers, body: body as RequestInit['body'], signal: AbortSignal.timeout(this.timeoutMs) });
        if (response.ok) return response;
        failure = await this.answerError(response, path, attempt);
        // A 5xx means the server did not store it (MLflow's log-batch is one transaction), except a
        // gateway's 504: the server behind it may still have.
        again = failure.failure === 'server' && (options.idempotent !== false || response.status !== 504);
      } catch (err) {
        if (err instanceof RemoteError) throw err;
        const { failure: networkFailure, sent } = this.networkError(err, path);
        failure = networkFailure;
        again = !sent || options.idempotent !== false;
      }
      if (!again || attempt >= this.retries) throw failure;
      await sleep(this.backoffMs * 2 ** attempt);
    }
  }

  private async answerError(response: Response, path: string, attempt: number): Promise<RemoteError> {
    const text = await response.text().catch(() => '');
    let body: { error_code?: unknown; message?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // An HTML error page from a proxy: its text is shown below.
    }
    const code = typeof body.error_code === 'string' ? body.error_code : undefined;
    const message = typeof body.message === 'string' ? oneLine(body.message) : oneLine(text);
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status === 401) {
      return new RemoteError('auth', `the MLflow server at ${this.url} refused the credentials (${status}): set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD`, 401, code);
    }
    if (response.status === 403) {
      return new RemoteError('auth', `the MLflow server at ${this.url} forbids ${endpointOf(path)} to these credentials (${status})${message ? `: ${message}` : ''}`, 403, code);
    }
    if (response.status >= 500 || response.status === 429) {
      const tries = attempt + 1;
      return new RemoteError('server', `the MLflow server at ${this.url} failed (${status}) on ${endpointOf(path)}${tries > 1 ? ` ${tries} times` : ''}${message ? `: ${message}` : ''}`, response.status, code);
    }
    return new RemoteError('mlflow', `the MLflow server at ${this.url} refused ${endpointOf(path)} (${code ?? status})${message ? `: ${message}` : ''}`, response.status, code);
  }

  /** `sent`: whether the request may have reached the server. */
  private networkError(err: unknown, path: string): { failure: RemoteError; sent: boolean } {
    const error = err as Error & { cause?: unknown };
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return { failure: new RemoteError('timeout', `the MLflow server at ${this.url} did not answer ${endpointOf(path)} within ${this.timeoutMs / 1000} s`), sent: true };
    }
    const cause = error.cause as (Error & { code?: string }) | undefined;
    const code = cause?.code ?? (err as { code?: string }).code;
    return {
      failure: new RemoteError('unreachable', `cannot reach the MLflow server at ${this.url} (${code ?? oneLine(cause?.message ?? error.message)})`),
      sent: !(code !== undefined && NOT_SENT.has(code)),
    };
  }
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

const endpointOf = (path: string): string => path.replace(/^\/api\/2\.0\/mlflow(-artifacts)?\//, '').replace(/\?.*$/, '');

const oneLine = (text: string): string => {
  const line = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
};
