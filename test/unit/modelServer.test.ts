import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createInterface } from 'node:readline';
import { pythonDir } from '../../src/core/paths.ts';
import { tempDir } from './helpers.ts';

/** The model server on a tiny pickled model (a stdlib class), with short limits for the test. */
async function startServer(extraArgs: string[]): Promise<{ port: number }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'tinymodel.py'), 'class Doubler:\n    def predict(self, rows):\n        return [2 * r[0] for r in rows]\n');
  const env = { ...process.env, PYTHONPATH: `${dir}:${pythonDir()}`, PYTHONDONTWRITEBYTECODE: '1' };
  const made = spawnSync('python3', ['-c', 'import pickle, tinymodel; pickle.dump(tinymodel.Doubler(), open("model.pkl", "wb"))'], { cwd: dir, env });
  assert.equal(made.status, 0, String(made.stderr));
  const server = spawn('python3', ['-m', 'runboard_server.server', '--model', join(dir, 'model.pkl'), '--name', 'tiny', '--version', '1', ...extraArgs], {
    cwd: dir,
    env: { ...env, RUNBOARD_SERVER_TOKEN: 'secret' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => server.kill('SIGKILL'));
  for await (const line of createInterface({ input: server.stdout })) {
    const event = JSON.parse(line);
    if (event.event === 'listening') return { port: event.port };
    if (event.event === 'error') throw new Error(event.message);
  }
  throw new Error('the server exited before listening');
}

/** Resolves when the server closes the connection, with how long that took. */
function closedAfter(socket: Socket): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => socket.on('close', () => resolve(Date.now() - started)));
}

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });

test('the model server closes idle connections and refuses connections past its limit', { timeout: 30_000 }, async () => {
  const { port } = await startServer(['--idle-timeout', '1', '--max-connections', '2']);
  const idle = [await open(port), await open(port)];
  const idleClosed = idle.map(closedAfter);
  await new Promise((resolve) => setTimeout(resolve, 200)); // both are being served (and waiting)
  const third = await open(port);
  const refused = await closedAfter(third);
  assert.ok(refused < 900, `a connection past the limit is closed at once (${refused} ms)`);
  const idleTimes = await Promise.all(idleClosed);
  assert.ok(idleTimes.every((ms) => ms >= 700 && ms < 5000), `idle connections closed after the idle timeout (${idleTimes} ms)`);

  const predict = await fetch(`http://127.0.0.1:${port}/predict`, {
    method: 'POST',
    headers: { Authorization: 'Bearer secret', 'Content-Type': 'application/json' },
    body: JSON.stringify({ instances: [[1], [2.5]] }),
  });
  assert.equal(predict.status, 200);
  assert.deepEqual((await predict.json()).predictions, [2, 5]);
});
