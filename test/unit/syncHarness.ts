import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import { startMlflowServer, type MlflowServer } from '../../src/core/mlflow/server.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { MlflowClient } from '../../src/core/sync/client.ts';
import { tempDir, tempStore } from './helpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

/** A teammate's workspace served by a real `runboard serve` (in this process). */
export async function remoteWorkspace(): Promise<{ store: Store; server: MlflowServer; workspace: string }> {
  const { store, workspace } = tempStore();
  const server = await startMlflowServer({ store });
  after(() => server.close());
  return { store, server, workspace };
}

/** A client with short waits between retries, so fault tests stay quick. */
export const testClient = (url: string, token: string, retries = 3): MlflowClient =>
  new MlflowClient({ url, credentials: { token }, retries, backoffMs: 20, timeoutMs: 20_000 });

/**
 * A local run with everything a push sends: params, tags, `points` steps of two metrics (NaN and
 * ±Inf among them), an artifact file, the uncommitted patch, an input, and a child run.
 */
export function buildPushable(store: Store, options: { points?: number; experiment?: string } = {}): { run: Run; child: Run; artifact: string } {
  const points = options.points ?? 2500;
  const experiment = options.experiment ?? 'team-exp';
  const run = store.createRun({ experiment, name: 'baseline', command: ['python3', 'train.py'], params: { lr: 0.01, layers: 3 }, user: 'ada' });
  store.markStarted(run.id, null);
  store.setTags(run.id, { note: 'first try' });
  store.setCodeState(run.id, { commit: 'a'.repeat(40), branch: 'main', dirty: true, patch: 'diff --git a/x b/x\n+1\n', patchTruncated: false });
  const special = [NaN, Infinity, -Infinity];
  store.logMetrics(run.id, [
    ...Array.from({ length: points }, (_, step) => ({ key: 'loss', step, value: step % 997 === 5 ? special[step % 3]! : 1 / (step + 1), wall: 1_700_000_000_000 + step })),
    ...Array.from({ length: Math.ceil(points / 10) }, (_, i) => ({ key: 'val/acc', step: i * 10, value: i / points, wall: 1_700_000_000_000 + i * 10 })),
  ]);
  const runDir = join(tempDir(), 'out');
  mkdirSync(join(runDir, 'artifacts'), { recursive: true });
  const body = 'weights\n'.repeat(100);
  writeFileSync(join(runDir, 'artifacts', 'model.txt'), body);
  store.setRunDir(run.id, runDir);
  store.addArtifact(run.id, { path: 'artifacts/model.txt', size: body.length, sha256: sha256(body), kind: 'other' });
  store.addInput(run.id, { path: '/data/train.csv', fingerprint: 'f'.repeat(64), size: 1234 });
  const child = store.createRun({ experiment, name: 'fold-1', parentId: run.id, params: { fold: 1 } });
  store.logMetrics(child.id, [{ key: 'loss', step: 0, value: 0.5, wall: 1_700_000_000_000 }]);
  store.markEnded(child.id, { status: 'finished' });
  return { run: store.run(run.id)!, child: store.run(child.id)!, artifact: body };
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The remote's copy of a local run, found by the tag every push sets. */
export function remoteCopy(remote: Store, local: Run): Run {
  const id = remote.runIdWithTag('runboard.run', local.mlflowId);
  if (id === undefined) throw new Error(`run ${local.name} is not on the remote`);
  return remote.run(id)!;
}

export interface Proxy {
  url: string;
  /** Metric points in log-batch requests the server answered 200 to. */
  storedPoints: number;
  requests: number;
  /** Answers 500 without forwarding when it returns true (given the request's number, from 1). */
  failWhen: (n: number, path: string) => boolean;
  /** Forwards the nth metric batch, then cuts the connection instead of relaying the answer. */
  dropAnswerOfBatch: number;
  close(): Promise<void>;
}

/** An HTTP proxy before the remote: counts what the server stored, and injects faults. */
export async function faultProxy(target: string): Promise<Proxy> {
  const upstream = new URL(target);
  let metricBatches = 0;
  const proxy: Proxy = {
    url: '',
    storedPoints: 0,
    requests: 0,
    failWhen: () => false,
    dropAnswerOfBatch: 0,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = ++proxy.requests;
      const path = req.url ?? '/';
      if (proxy.failWhen(n, path)) {
        res.writeHead(500, { 'Content-Type': 'text/html' }).end('<html><body><h1>Internal Server Error</h1></body></html>');
        return;
      }
      const body = Buffer.concat(chunks);
      let points = 0;
      if (path.endsWith('/runs/log-batch')) points = (JSON.parse(body.toString()) as { metrics?: unknown[] }).metrics?.length ?? 0;
      const batch = points > 0 ? ++metricBatches : 0;
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            if (answer.statusCode === 200) proxy.storedPoints += points;
            if (batch > 0 && batch === proxy.dropAnswerOfBatch) {
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(parts));
          });
        },
      );
      forward.on('error', () => res.writeHead(502).end('upstream gone'));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  after(() => proxy.close());
  return proxy;
}

/** `runboard serve` as a child process over a database, on a given port (0: a free one). */
export async function serveChild(db: string, port: number, token: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--db', db, '--port', String(port), '--token', token, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0]!;
      if (out.includes('\n')) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`runboard serve exited ${code}: ${err}`)));
  });
  return { child, url };
}

/** A port nothing listens on (one just released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
