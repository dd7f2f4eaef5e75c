import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createInterface } from 'node:readline';
import { pythonDir } from '../../src/core/paths.ts';
import { readRecords, requestStats } from '../../src/core/monitor/requestLog.ts';
import { tempDir } from './helpers.ts';

/** The model server on a tiny pickled model (a stdlib class), with short limits for the test. */
async function startServer(extraArgs: string[], dir = tempDir()): Promise<{ port: number; stop(): Promise<number | null>; stderr(): string }> {
  writeFileSync(join(dir, 'tinymodel.py'), 'class Doubler:\n    def predict(self, rows):\n        return [2 * r[0] for r in rows]\n');
  const env = { ...process.env, PYTHONPATH: `${dir}:${pythonDir()}`, PYTHONDONTWRITEBYTECODE: '1' };
  const made = spawnSync('python3', ['-c', 'import pickle, tinymodel; pickle.dump(tinymodel.Doubler(), open("model.pkl", "wb"))'], { cwd: dir, env });
  assert.equal(made.status, 0, String(made.stderr));
  const server = spawn('python3', ['-m', 'runboard_server.server', '--model', join(dir, 'model.pkl'), '--name', 'tiny', '--version', '1', ...extraArgs], {
    cwd: dir,
    env: { ...env, RUNBOARD_SERVER_TOKEN: 'secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => server.kill('SIGKILL'));
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  for await (const line of createInterface({ input: server.stdout })) {
    const event = JSON.parse(line);
    if (event.event === 'listening') {
      const stopped = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      return { port: event.port, stop: () => (server.kill('SIGTERM'), stopped), stderr: () => stderr };
    }
    if (event.event === 'error') throw new Error(event.message);
  }
  throw new Error('the server exited before listening');
}

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });

/**
 * A connection, and how long after its connect began the server closed it: the server's deadline
 * starts at its accept, later, so a busy test process cannot make the server look early, and the
 * close is listened for from the start, so it cannot be missed.
 */
async function openTimed(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const started = Date.now();
  const socket = await open(port);
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started))) };
}

/** Resolves when the connection closes, reset or not (events.once would reject on the reset's error). */
const closing = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

const predict = (port: number, token = 'secret') =>
  fetch(`http://127.0.0.1:${port}/predict`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ instances: [[1], [2.5]] }),
    // A server that is locked out fails the test here, not by hanging it.
    signal: AbortSignal.timeout(5000),
  });

test('the model server closes connections that send no request head in time, and serves on', { timeout: 30_000 }, async () => {
  const { port } = await startServer(['--header-timeout', '1']);
  const idle = [await openTimed(port), await openTimed(port)];
  const idleTimes = await Promise.all(idle.map((connection) => connection.closed));
  assert.ok(idleTimes.every((ms) => ms >= 700 && ms < 5000), `idle connections closed after the header deadline (${idleTimes} ms)`);
  const res = await predict(port);
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).predictions, [2, 5]);
});

test('stopped while clients hold idle connections, the model server exits 0 and prints no traceback', { timeout: 30_000 }, async () => {
  const server = await startServer(['--header-timeout', '30']);
  const idle = [await open(server.port), await open(server.port)];
  const keptAlive = await open(server.port);
  keptAlive.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => keptAlive.once('data', resolve));
  const closed = [...idle, keptAlive].map(closing);
  assert.equal(await server.stop(), 0);
  await Promise.all(closed);
  assert.equal(server.stderr(), '', 'nothing on stderr');
});

/** `count` connections, opened one after another so that none waits in the listen backlog. */
async function openMany(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    sockets.push(await open(port));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return sockets;
}

/** Sockets that send a request head one byte at a time, never finishing it (slow loris). */
function trickle(sockets: Socket[], everyMs: number): () => void {
  const head = 'POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(10_000);
  let sent = 0;
  const timer = setInterval(() => {
    for (const socket of sockets) if (!socket.destroyed) socket.write(head[sent % head.length]!);
    sent++;
  }, everyMs);
  return () => {
    clearInterval(timer);
    for (const socket of sockets) socket.destroy();
  };
}

test('150 slow-loris connections do not keep an authenticated /predict out', { timeout: 60_000 }, async (t) => {
  const { port } = await startServer([]);
  const sockets = await openMany(port, 150);
  t.after(trickle(sockets, 500));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // every slow client is mid-header
  const res = await predict(port);
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).predictions, [2, 5]);
});

test('connections past the limit evict idle strangers, not the authenticated client', { timeout: 60_000 }, async (t) => {
  const { port } = await startServer(['--max-connections', '20']);
  const idle = await openMany(port, 40);
  // The 20 left open (the newest) send a whole head without the token, then trickle the body it announces.
  for (const socket of idle.slice(20)) socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{');
  t.after(trickle(idle.slice(20), 200));
  const closed = idle.map(closing);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const res = await predict(port);
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).predictions, [2, 5]);
  assert.ok((await Promise.race([Promise.any(closed), new Promise((r) => setTimeout(() => r(-1), 2000))])) !== -1, 'the oldest idle connections were closed');
});

test('a request head must arrive whole within the header deadline, however steadily it trickles', { timeout: 30_000 }, async (t) => {
  const { port } = await startServer(['--header-timeout', '1']);
  const { socket, closed } = await openTimed(port);
  t.after(trickle([socket], 100));
  const ms = await closed;
  assert.ok(ms >= 700 && ms < 5000, `closed after the deadline although bytes kept coming (${ms} ms)`);
});

test('strangers write no line per request: 300 requests with 60 KB paths leave the log and the stats as they were', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const log = join(dir, 'requests.jsonl');
  const server = await startServer(['--log', log], dir);
  for (let i = 0; i < 10; i++) assert.equal((await predict(server.port)).status, 200);
  const before = statSync(log).size;
  const long = 'x'.repeat(60_000);
  for (let i = 0; i < 300; i++) {
    const [method, path] = [['GET', `/${long}`], ['POST', `/predict/${long}`], ['POST', `/predict?${long}`]][i % 3]!;
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method, body: method === 'POST' ? '{}' : undefined, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    await res?.arrayBuffer();
  }
  assert.ok(statSync(log).size - before < 1024, `the log grew by ${statSync(log).size - before} bytes`);
  // What the editor's traffic view reads: the last megabyte.
  assert.equal(requestStats(log, { maxBytes: 1 << 20 }).requests, 10);
  await server.stop();
  const refused = readRecords(log).records.flatMap((r) => Object.values((r as { refused?: Record<string, number> }).refused ?? {}));
  assert.equal(refused.reduce((a, b) => a + b, 0), 300, 'refused requests are counted in one summary line');
});

test('the request log is capped and rotated into one older file', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const log = join(dir, 'requests.jsonl');
  const { port } = await startServer(['--log', log, '--log-max-bytes', '2000'], dir);
  for (let i = 0; i < 60; i++) assert.equal((await predict(port)).status, 200);
  assert.ok(statSync(log).size <= 2000, `requests.jsonl holds ${statSync(log).size} bytes`);
  assert.ok(statSync(`${log}.1`).size <= 2000, 'one rotated file, capped alike');
  assert.equal(existsSync(`${log}.2`), false);
  const lines = (readFileSync(`${log}.1`, 'utf8') + readFileSync(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { time: number });
  assert.ok(lines.length >= 10 && lines.every((r, i) => i === 0 || r.time >= lines[i - 1]!.time), 'the newest requests, in order');
});
