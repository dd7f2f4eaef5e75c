import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { storageProblem, UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { MLFLOW_ROUTES } from './routeTable.ts';
import { MlflowError, type MlflowContext, type MlflowReply, type MlflowRequest, type MlflowRoute } from './routes.ts';

/**
 * The largest JSON body read. MLflow's biggest request, a full log-batch (1,000 metrics, 100 params
 * of 6,000 characters, 100 tags of 5,000), is about 1.2 MB; 8 MiB leaves room for a log-model's
 * model JSON while a runaway client cannot make the server buffer without end. Artifact uploads
 * stream (`stream: true` routes) and are not bound by it.
 */
export const MAX_JSON_BODY = 8 * 1024 * 1024;

export interface MlflowServerOptions {
  store: Store;
  /** 0 or absent: a free port. The host is always 127.0.0.1. */
  port?: number;
  /** The bearer token clients must send; a random one when absent. */
  token?: string;
  routes?: readonly MlflowRoute[];
}

export interface MlflowServer {
  /** `http://127.0.0.1:PORT`, for MLFLOW_TRACKING_URI. */
  url: string;
  /** For MLFLOW_TRACKING_TOKEN. */
  token: string;
  close(): Promise<void>;
}

/** A random token: 32 hex digits. */
export const newServerToken = (): string => randomBytes(16).toString('hex');

/**
 * An MLflow-compatible tracking server over a workspace's store, on 127.0.0.1 only. Every request
 * needs `Authorization: Bearer <token>` (the MLflow client sends MLFLOW_TRACKING_TOKEN that way).
 */
export async function startMlflowServer(options: MlflowServerOptions): Promise<MlflowServer> {
  const token = options.token ?? newServerToken();
  const routes = options.routes ?? MLFLOW_ROUTES;
  const context: MlflowContext = { store: options.store };
  const expected = digest(`Bearer ${token}`);
  const server = createServer((req, res) => {
    // Hash both sides so the comparison takes the same time whatever the length sent.
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      req.resume();
      send(res, { status: 401, json: new MlflowError('UNAUTHENTICATED', 'A valid bearer token is required (set MLFLOW_TRACKING_TOKEN to the token runboard serve printed).') });
      return;
    }
    void serve(req, res, routes, context);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UserError(`port ${options.port} on 127.0.0.1 is already in use; pick another with --port, or 0 for a free one`) : err),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

async function serve(req: IncomingMessage, res: ServerResponse, routes: readonly MlflowRoute[], context: MlflowContext): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? 'GET';
    const route = findRoute(routes, method, path);
    if (!route) {
      req.resume();
      throw new MlflowError('ENDPOINT_NOT_FOUND', `No MLflow endpoint ${method} ${url.pathname} here.`);
    }
    const request: MlflowRequest = { method, path, query: url.searchParams, fields: {}, headers: req.headers };
    if (route.stream) request.stream = req;
    else request.fields = method === 'GET' ? queryFields(url.searchParams) : await jsonFields(req);
    send(res, await route.handle(request, context));
  } catch (err) {
    if (!req.complete) req.resume();
    send(res, { status: errorStatus(err), json: asMlflowError(err) });
  }
}

function findRoute(routes: readonly MlflowRoute[], method: string, path: string): MlflowRoute | undefined {
  return routes.find((r) => r.method === method && (r.prefix ? path.startsWith(r.path) : path === r.path));
}

/** A GET's fields: a key given twice (experiment_ids) becomes a list; `key[]` and `key[0]` name `key`. */
function queryFields(query: URLSearchParams): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [rawKey, value] of query) {
    const key = rawKey.replace(/\[\d*\]$/, '');
    const had = fields[key];
    fields[key] = had === undefined ? (rawKey === key ? value : [value]) : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return fields;
}

async function jsonFields(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_JSON_BODY) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    // Older clients post their JSON encoded twice, as a string (MLflow's handlers accept that too).
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch (err) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Malformed JSON request body: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

const tooLarge = (): MlflowError =>
  new MlflowError('INVALID_PARAMETER_VALUE', `Request bodies must be at most ${MAX_JSON_BODY} bytes; split the request (a log-batch holds at most 1,000 metrics).`, 413);

function asMlflowError(err: unknown): MlflowError {
  if (err instanceof MlflowError) return err;
  if (err instanceof UserError) return new MlflowError('INVALID_PARAMETER_VALUE', err.message);
  if (err instanceof URIError) return new MlflowError('INVALID_PARAMETER_VALUE', `Malformed request path: ${err.message}`);
  const storage = storageProblem(err);
  if (storage) return new MlflowError('TEMPORARILY_UNAVAILABLE', storage);
  return new MlflowError('INTERNAL_ERROR', `Runboard could not answer: ${(err as Error).message}`);
}

const errorStatus = (err: unknown): number => asMlflowError(err).httpStatus;

/** JSON as MLflow's protobuf encoding writes it: NaN and ±Inf as the strings "NaN", "Infinity", "-Infinity". */
export function mlflowJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

function send(res: ServerResponse, reply: MlflowReply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = { ...reply.headers };
  const status = reply.status ?? 200;
  if (reply.body instanceof Readable) {
    res.writeHead(status, { 'Content-Type': reply.contentType ?? 'application/octet-stream', ...headers });
    reply.body.on('error', () => res.destroy()).pipe(res);
    return;
  }
  const body = reply.body ?? mlflowJson(reply.json ?? {});
  res.writeHead(status, {
    'Content-Type': reply.contentType ?? (reply.body === undefined ? 'application/json' : 'application/octet-stream'),
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
