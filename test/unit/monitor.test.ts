import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { pythonDir } from '../../src/core/paths.ts';
import { addRow, addWindow, emptyAggregate } from '../../src/core/monitor/aggregate.ts';
import { readFeedback, readProfile, readRows, readWindows } from '../../src/core/monitor/files.ts';
import { performanceOf } from '../../src/core/monitor/monitor.ts';
import { chiSquare, holm, jensenShannon, ks, psi, upperGammaQ } from '../../src/core/monitor/stats.ts';
import { parseSince } from '../../src/cli/commands/monitor.ts';
import { tempDir } from './helpers.ts';
import { SYSTEM_PYTHON } from './registryFixtures.ts';

const close = (actual: number | null | undefined, expected: number, tolerance = 1e-9) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tolerance, `${actual} ≈ ${expected}`);

/** Values from scipy, computed by the real Python for these inputs. */
function scipy(code: string): number[] {
  const out = spawnSync(SYSTEM_PYTHON, ['-c', `import json, scipy.stats as s\nprint(json.dumps(${code}))`], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as number[];
}

test('PSI by hand, with the epsilon floor for an empty bin; null for an empty side', () => {
  close(psi([50, 50], [90, 10]), 0.4 * Math.log(1.8) + 0.4 * Math.log(5));
  close(psi([10, 10], [10, 10]), 0);
  close(psi([100, 0], [50, 50]), (0.5 - 1) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4));
  assert.equal(psi([1, 2], [0, 0]), null);
});

test('KS p-values follow the Kolmogorov distribution; chi-square p-values match scipy', () => {
  const test1 = ks([25, 25, 25, 25], [10, 20, 30, 40])!;
  close(test1.d, 0.2);
  const en = Math.sqrt((100 * 100) / 200);
  const [expectedKs] = scipy(`[s.kstwobign.sf(${(en + 0.12 + 0.11 / en) * 0.2})]`);
  close(test1.p, expectedKs!, 1e-9);
  const chi = chiSquare([40, 30, 30, 0], [20, 30, 40, 10])!;
  const smoothed = [40.5, 30.5, 30.5, 0.5];
  const expected = smoothed.map((c) => (c / 102) * 100);
  const statistic = [20, 30, 40, 10].reduce((s, c, i) => s + (c - expected[i]!) ** 2 / expected[i]!, 0);
  close(chi.statistic, statistic);
  const [expectedChi] = scipy(`[s.chi2.sf(${statistic}, 3)]`);
  close(chi.p, expectedChi!, 1e-9);
  const [smallChi] = scipy('[s.chi2.sf(2.5, 4)]');
  close(upperGammaQ(2, 1.25), smallChi!, 1e-9);
  close(chiSquare([100, 100, 100, 100, 100], [20, 20, 20, 20, 20])!.p, 1, 1e-9);
});

test('Holm adjusts p-values step-down across the tested features, skipping untested ones', () => {
  assert.deepEqual(holm([0.01, 0.04, null, 0.03, 0.5]), [0.04, 0.09, null, 0.09, 0.5]);
  assert.deepEqual(holm([]), []);
});

test('Jensen–Shannon distance: 0 for equal, 1 for disjoint distributions', () => {
  close(jensenShannon([1, 2, 3], [2, 4, 6]), 0);
  close(jensenShannon([1, 0], [0, 1]), 1);
});

test('live performance: accuracy, macro precision/recall/F1 and the confusion matrix; MAE/RMSE for a regressor', () => {
  const labeled = [
    [1, 1],
    [1, 0],
    [0, 0],
    [0, 0],
    [2, 1],
  ].map(([label, prediction], id) => ({ id, t: 0, label, prediction }));
  const p = performanceOf('classification', labeled);
  assert.equal(p.accuracy, 3 / 5);
  assert.deepEqual(p.confusion, { labels: ['0', '1', '2'], matrix: [[2, 0, 0], [1, 1, 0], [0, 1, 0]] });
  // class 0: P 2/3 R 1; class 1: P 1/2 R 1/2; class 2: P 0 R 0
  close(p.precision, (2 / 3 + 1 / 2 + 0) / 3);
  close(p.recall, (1 + 1 / 2 + 0) / 3);
  close(p.f1, (0.8 + 0.5 + 0) / 3);
  const r = performanceOf('regression', [{ id: 1, t: 0, label: 1, prediction: 2 }, { id: 2, t: 0, label: 3, prediction: 0 }]);
  assert.equal(r.mae, 2);
  close(r.rmse, Math.sqrt(5));
});

test('--since takes an ISO time or a duration back from now', () => {
  assert.equal(parseSince('2h', 10_000_000), 10_000_000 - 7_200_000);
  assert.equal(parseSince('2026-01-31T12:00:00Z'), Date.UTC(2026, 0, 31, 12));
  assert.throws(() => parseSince('yesterday'), /--since takes/);
});

/** The model server with monitoring on, on a tiny pickled regressor (a stdlib class). */
async function startServer(dir: string, args: string[]): Promise<{ port: number; stop(): Promise<void> }> {
  writeFileSync(join(dir, 'tinymodel.py'), 'class Sum:\n    def predict(self, rows):\n        return [sum(v for v in r if isinstance(v, (int, float)) and v == v) for r in rows]\n');
  const env = { ...process.env, PYTHONPATH: `${dir}:${pythonDir()}`, PYTHONDONTWRITEBYTECODE: '1' };
  const made = spawnSync('python3', ['-c', 'import pickle, tinymodel; pickle.dump(tinymodel.Sum(), open("model.pkl", "wb"))'], { cwd: dir, env });
  assert.equal(made.status, 0, String(made.stderr));
  const server = spawn('python3', ['-m', 'runboard_server.server', '--model', join(dir, 'model.pkl'), '--name', 'tiny', '--version', '1', '--port', '0', ...args], {
    cwd: dir,
    env: { ...env, RUNBOARD_SERVER_TOKEN: 'secret' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => server.kill('SIGKILL'));
  for await (const line of createInterface({ input: server.stdout })) {
    const event = JSON.parse(line);
    if (event.event === 'listening') {
      const stopped = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      return { port: event.port, stop: () => (server.kill('SIGTERM'), stopped) };
    }
    if (event.event === 'error') throw new Error(event.message);
  }
  throw new Error('the server exited before listening');
}

async function predict(port: number, instances: unknown[][]): Promise<{ status: number; body: { ids: number[]; predictions: number[]; error?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { authorization: 'Bearer secret' }, body: JSON.stringify({ instances }) });
  return { status: res.status, body: await res.json() };
}

/** A reference with a numeric, a categorical and a second numeric column (seeded). */
function writeReference(dir: string): string {
  const rows: unknown[][] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 400; i++) rows.push([random() * 10, ['red', 'green', 'blue'][i % 3], random() - 0.5]);
  const file = join(dir, 'reference.json');
  writeFileSync(file, JSON.stringify({ features: ['size', 'colour', 'noise'], rows }));
  return file;
}

test('closed windows and the open window bin rows alike: the same counts whether aggregated by the server or from the ring', { timeout: 60_000 }, async () => {
  const sent: unknown[][] = [];
  for (let i = 0; i < 95; i++) sent.push([(i * 37) % 13, ['red', 'green', 'purple', null][i % 4], i % 5 === 0 ? null : (i % 7) / 7 - 0.5]);
  const results = [];
  for (const windowRows of ['10', '100000']) {
    const dir = tempDir();
    mkdirSync(join(dir, 'monitor'));
    const server = await startServer(dir, ['--monitor-dir', join(dir, 'monitor'), '--reference', writeReference(dir), '--window-rows', windowRows]);
    for (let i = 0; i < sent.length; i += 7) {
      const answer = await predict(server.port, sent.slice(i, i + 7));
      assert.equal(answer.status, 200, answer.body.error);
      assert.deepEqual(answer.body.ids, Array.from({ length: Math.min(7, sent.length - i) }, (_, k) => i + k + 1));
    }
    await server.stop();
    const monitorDir = join(dir, 'monitor');
    const profile = readProfile(monitorDir)!;
    assert.deepEqual(profile.features.map((f) => [f.name, f.kind]), [['size', 'numeric'], ['colour', 'categorical'], ['noise', 'numeric']]);
    const windows = readWindows(monitorDir);
    const agg = emptyAggregate(profile);
    for (const w of windows) addWindow(agg, w);
    for (const row of readRows(monitorDir, windows.at(-1)?.lastId ?? 0)) addRow(agg, profile, row);
    results.push({ windows: windows.length, rows: agg.rows, features: agg.features, prediction: agg.prediction });
  }
  // At stop the server closes its last window too, so the second run holds one window of everything.
  assert.equal(results[0]!.windows, 7, 'a window closes once it holds 10 rows: every second request of 7');
  assert.equal(results[1]!.windows, 1);
  assert.equal(results[0]!.rows, 95);
  assert.deepEqual(results[0]!.features, results[1]!.features);
  assert.deepEqual(results[0]!.prediction, results[1]!.prediction);
  const colour = results[0]!.features![1]!;
  assert.deepEqual([colour[0], colour[1], colour[2]], [95, 23, 24], 'count, missing (null), unseen (purple)');
  assert.equal(results[0]!.features![2]![1], 19, 'a null number is a missing value');
});

test('the open window is read from the ring of rows; feedback records labels of known ids only', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const monitorDir = join(dir, 'monitor');
  mkdirSync(monitorDir);
  const server = await startServer(dir, ['--monitor-dir', monitorDir, '--reference', writeReference(dir)]);
  const answer = await predict(server.port, [[1, 'red', 0.1], [2, 'blue', 0.2]]);
  assert.equal((await predict(server.port, [['x', 'red', 0.1]])).status, 400, 'a string in a numeric column is refused');
  const res = await fetch(`http://127.0.0.1:${server.port}/feedback`, { method: 'POST', headers: { authorization: 'Bearer secret' }, body: JSON.stringify({ ids: [...answer.body.ids, 3], labels: [1, 2, 3] }) });
  assert.deepEqual(await res.json(), { recorded: 2, unknown: [3] });
  const rows = readRows(monitorDir);
  assert.deepEqual(rows.map((r) => [r.id, r.x, r.y]), [[1, [1, 'red', 0.1], 1.1], [2, [2, 'blue', 0.2], 2.2]]);
  assert.deepEqual(readFeedback(monitorDir).map((f) => [f.id, f.label, f.prediction]), [[1, 1, 1.1], [2, 2, 2.2]]);
  assert.equal(readWindows(monitorDir).length, 0, 'the window is still open');
  await server.stop();
  assert.equal(readWindows(monitorDir).length, 1, 'closed at stop');
});

test('the ring of rows is capped: one older file, never more', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const monitorDir = join(dir, 'monitor');
  mkdirSync(monitorDir);
  const server = await startServer(dir, ['--monitor-dir', monitorDir, '--ring-max-bytes', '1000']);
  for (let i = 0; i < 40; i++) assert.equal((await predict(server.port, [[i, i + 1, i + 2]])).status, 200);
  await server.stop();
  assert.ok(readFileSync(join(monitorDir, 'rows.jsonl')).length <= 1000, `${readFileSync(join(monitorDir, 'rows.jsonl')).length} bytes`);
  assert.ok(existsSync(join(monitorDir, 'rows.jsonl.1')));
  const rows = readRows(monitorDir);
  assert.equal(rows.at(-1)!.id, 40);
  assert.ok(rows.length < 40 && rows.length > 10, `${rows.length} recent rows kept`);
});

test('a symlink planted in the monitoring folder stops the server at start instead of being written through', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  const monitorDir = join(dir, 'monitor');
  mkdirSync(monitorDir);
  writeFileSync(join(dir, 'victim.txt'), 'keep me');
  symlinkSync(join(dir, 'victim.txt'), join(monitorDir, 'rows.jsonl'));
  await assert.rejects(startServer(dir, ['--monitor-dir', monitorDir]), /cannot start monitoring/);
  assert.equal(readFileSync(join(dir, 'victim.txt'), 'utf8'), 'keep me');
});
