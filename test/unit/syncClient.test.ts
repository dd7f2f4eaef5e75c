import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { MlflowClient, RemoteError } from '../../src/core/sync/client.ts';

/** A real HTTP server answering each request with `answer`, counting requests and keeping their Authorization. */
async function server(answer: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen = { requests: 0, authorization: [] as (string | undefined)[], bodies: [] as string[] };
  const http = createServer((req, res) => {
    seen.authorization.push(req.headers.authorization);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.bodies.push(body);
      answer(req, res, ++seen.requests);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  after(() => {
    http.closeAllConnections();
    http.close();
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, seen };
}

const failure = async (promise: Promise<unknown>): Promise<RemoteError> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RemoteError) return err;
    throw err;
  }
  throw new Error('no failure');
};

test('client: one line per failure class (403, MLflow error body, not JSON, timeout); basic auth from the credentials', async () => {
  const { url, seen } = await server((req, res) => {
    if (req.url!.includes('forbidden')) res.writeHead(403, { 'Content-Type': 'application/json' }).end('{"error_code":"PERMISSION_DENIED","message":"Permission denied for experiment 3."}');
    else if (req.url!.includes('refused')) res.writeHead(400).end('{"error_code":"INVALID_PARAMETER_VALUE","message":"Param value too long\\n(6000 max)"}');
    else if (req.url!.includes('html')) res.writeHead(200).end('<html>login</html>');
    // Else it never answers.
  });
  const client = new MlflowClient({ url, credentials: { username: 'ada', password: 'pw' }, retries: 2, backoffMs: 5, timeoutMs: 300 });
  const forbidden = await failure(client.get('forbidden'));
  assert.deepEqual([forbidden.failure, forbidden.message], ['auth', `the MLflow server at ${url} forbids forbidden to these credentials (403 Forbidden): Permission denied for experiment 3.`]);
  const refused = await failure(client.post('refused', {}));
  assert.deepEqual([refused.failure, refused.errorCode, refused.message], ['mlflow', 'INVALID_PARAMETER_VALUE', `the MLflow server at ${url} refused refused (INVALID_PARAMETER_VALUE): Param value too long (6000 max)`]);
  const html = await failure(client.get('html'));
  assert.equal(html.message, `${url} answered html with something other than JSON (is it an MLflow tracking server?): login`);
  const before = seen.requests;
  const slow = await failure(client.post('runs/log-batch', { metrics: [] }, { idempotent: false }));
  assert.deepEqual([slow.failure, slow.message], ['timeout', `the MLflow server at ${url} did not answer runs/log-batch within 0.3 s`]);
  assert.equal(seen.requests - before, 1, 'a batch that may have arrived is not sent again blindly');
  const again = seen.requests;
  await failure(client.get('runs/get'));
  assert.equal(seen.requests - again, 3, 'a read is tried again');
  assert.equal(seen.authorization[0], `Basic ${Buffer.from('ada:pw').toString('base64')}`);
});

test('client: 5xx answers are retried with backoff and a success after them is a success; NaN and ±Inf travel as strings', async () => {
  const { url, seen } = await server((_req, res, n) => {
    if (n < 3) res.writeHead(503).end('busy');
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  const client = new MlflowClient({ url, retries: 3, backoffMs: 5 });
  assert.deepEqual(await client.post('runs/log-batch', { metrics: [NaN, Infinity, -Infinity, 1] }, { idempotent: false }), { ok: true });
  assert.equal(seen.requests, 3, 'a 503 says nothing was stored: the batch is sent again');
  assert.equal(seen.bodies[2], '{"metrics":["NaN","Infinity","-Infinity",1]}');
});
