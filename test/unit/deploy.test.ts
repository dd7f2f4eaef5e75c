import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { processAlive } from '../../src/core/deploy/process.ts';
import { readRecords } from '../../src/core/monitor/requestLog.ts';
import { lineage } from '../../src/core/registry/lineage.ts';
import { GateError, Registry, sha256File } from '../../src/core/registry/registry.ts';
import { cli, json } from './cliHarness.ts';
import { tempStore } from './helpers.ts';
import { waitFor } from './launchHelpers.ts';
import { COMMIT, recordRun, SYSTEM_PYTHON, trainModels } from './registryFixtures.ts';

// Registered before the store's own hooks, so every server is stopped while the store is still open.
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const { store, workspace } = tempStore();
const expected = trainModels(workspace);
const environment = { python: { version: '3.11.2', executable: SYSTEM_PYTHON, packages: { 'scikit-learn': '1.2.1', numpy: '1.24.2', pip: '23.0' } } };
const data = join(workspace, 'train.csv');
const runA = recordRun(store, workspace, { model: join(workspace, 'model_a.pkl'), data, name: 'lr-c1', metrics: { accuracy: expected.a.accuracy }, environment });
const runB = recordRun(store, workspace, { model: join(workspace, 'model_b.pkl'), data, name: 'lr-c0.001', metrics: { accuracy: expected.b.accuracy }, environment });
const registry = new Registry(store);
registry.register({ name: 'clf', run: runA.id, artifact: 'model.pkl', aliases: ['champion'] });
registry.register({ name: 'clf', run: runB.id, artifact: 'model.pkl' });
const deployments = new Deployments(store, { settings: {} });
cleanups.push(async () => {
  for (const d of deployments.list()) await deployments.stop(d.id).catch(() => undefined);
});

async function predict(url: string, token: string | undefined, body: unknown = { instances: expected.rows }) {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { predictions?: number[]; probabilities?: number[][]; error?: string } };
}

/** One raw HTTP request, for headers fetch will not send; resolves with the status line. */
function rawRequest(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    socket.on('end', () => resolve(text.split('\r\n')[0]!));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('the server hung')));
  });
}

function assertSameAs(got: { predictions?: number[]; probabilities?: number[][] }, want: { predictions: number[]; probabilities: number[][] }) {
  assert.deepEqual(got.predictions, want.predictions);
  assert.equal(got.probabilities?.length, want.probabilities.length);
  got.probabilities!.forEach((row, i) => row.forEach((p, j) => assert.ok(Math.abs(p - want.probabilities[i]![j]!) < 1e-12, `probability [${i}][${j}]`)));
}

test('local deploy: real HTTP predictions equal the model\'s own; 401 without the token; 400 with a message on a bad body, and it keeps serving', async (t) => {
  const { deployment: d, token, elapsedMs } = await deployments.deploy('clf@champion');
  t.diagnostic(`deploy to healthy: ${elapsedMs} ms`);
  assert.equal(d.status, 'running', d.error ?? '');
  assert.match(d.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(d.version, 1);
  assert.equal(d.config.python, SYSTEM_PYTHON, "the run's recorded interpreter");

  const ok = await predict(d.url!, token);
  assert.equal(ok.status, 200);
  assertSameAs(ok.body, expected.a);
  const health = (await (await fetch(`${d.url}/health`)).json()) as Record<string, string>;
  assert.deepEqual([health.name, health.version, health.status], ['clf', '1', 'ok']);

  assert.equal((await predict(d.url!, undefined)).status, 401);
  assert.equal((await predict(d.url!, token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))).status, 401);
  const raw = await fetch(`${d.url}/predict`, { method: 'POST', headers: { authorization: token }, body: '{}' });
  assert.equal(raw.status, 401, 'the Bearer scheme is required');

  const cases: [unknown, RegExp][] = [
    ['{"instances": [[1, 2', /not valid JSON/],
    [{ rows: [[1, 2, 3, 4]] }, /expected a JSON object \{"instances"/],
    [{ instances: [] }, /non-empty list/],
    [{ instances: [[1, 'a', 3, 4]] }, /instances\[0\] holds 'a', which is not a finite number/],
    [{ instances: [[1, 2, 3, 4], [1, 2]] }, /instances\[1\] has 2 values/],
    ['{"instances": [[NaN, 1, 2, 3]]}', /NaN is not allowed/],
    [{ instances: [[1, 2]] }, /the model rejected the input/],
  ];
  for (const [body, message] of cases) {
    const bad = await predict(d.url!, token, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.match(bad.body.error ?? '', message);
  }
  for (const length of ['-5', 'lots']) {
    const line = await rawRequest(d.url!, `POST /predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`);
    assert.match(line, /^HTTP\/1\.1 411 /, `Content-Length: ${length}`);
  }
  const still = await predict(d.url!, token, { instances: expected.rows.slice(0, 3) });
  assert.equal(still.status, 200, 'still serving after bad requests');
  assert.deepEqual(still.body.predictions, expected.a.predictions.slice(0, 3));

  // The token is handed out once: the record keeps a hash, and so does the server.
  assert.equal(d.config.tokenSha256, createHash('sha256').update(token).digest('hex'));
  assert.ok(!JSON.stringify(store.db.prepare('SELECT * FROM deployments').all()).includes(token));
  assert.ok(!readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').includes(token));

  // Requests without the token are counted in a summary line, not one by one, so they are not in the stats.
  const stats = deployments.stats(d.id);
  assert.equal(stats.requests, 2 + 2 + cases.length);
  assert.equal(stats.errors, 2 + cases.length);
  assert.equal(stats.rows, expected.rows.length + 3);
  assert.ok(stats.p50! > 0 && stats.p95! >= stats.p50!);
  const logged = readRecords(deployments.requestLog(d)!).records.filter((r) => r.path === '/predict');
  assert.deepEqual(logged[0]!.inputs, expected.rows, 'numeric inputs are logged for monitoring');
  assert.equal(logged[0]!.batch, expected.rows.length);

  const l = lineage(store, { kind: 'deployment', id: d.id });
  assert.deepEqual(l.chain.modelVersion && [l.chain.modelVersion.name, l.chain.modelVersion.version], ['clf', 1]);
  assert.equal(l.chain.run?.id, runA.id);
  assert.deepEqual(l.chain.inputs, [{ path: 'data/train.csv', fingerprint: sha256File(data), size: readFileSync(data).length }]);
  assert.equal(l.chain.commit?.commit, COMMIT);
  assert.deepEqual(l.upstream.map((e) => e.relation).sort(), ['deployed', 'input', 'produced']);

  const stopped = await deployments.stop(d.id);
  assert.equal(stopped.status, 'stopped');
  assert.ok(stopped.stoppedAt);
  assert.equal(processAlive(d.pid!), false);
  await assert.rejects(fetch(`${d.url}/health`), 'nothing listens any more');
});

test('rollback replaces a deployment with the previous version on the same target and port, recorded', async () => {
  const second = await deployments.deploy('clf@2');
  assert.equal(second.deployment.status, 'running', second.deployment.error ?? '');
  assertSameAs((await predict(second.deployment.url!, second.token)).body, expected.b);

  const back = await deployments.rollback(second.deployment.id, { token: second.token });
  assert.equal(back.deployment.status, 'running', back.deployment.error ?? '');
  assert.equal(back.deployment.version, 1);
  assert.equal(back.deployment.replacesId, second.deployment.id);
  assert.equal(back.deployment.url, second.deployment.url, 'same port, so clients keep their URL');
  assert.equal(deployments.get(second.deployment.id).status, 'stopped');
  assertSameAs((await predict(back.deployment.url!, second.token)).body, expected.a);

  await assert.rejects(deployments.rollback(back.deployment.id), /Nothing to roll back to: clf has no version older than 1/);
  assert.equal(deployments.get(back.deployment.id).status, 'running', 'a refused rollback leaves the deployment serving');
  await deployments.stop(back.deployment.id);
});

test('a failing promotion gate refuses the deploy, naming the gate; force deploys and records it', async () => {
  writeFileSync(join(workspace, '.runboard', 'profiles.json'), JSON.stringify({ profiles: { strict: { command: ['python3', 'train.py'], gates: ['accuracy>=0.999'] } } }));
  const run = recordRun(store, workspace, { model: join(workspace, 'model_a.pkl'), data, profile: 'strict', metrics: { accuracy: expected.a.accuracy } });
  const v = registry.register({ name: 'gated', run: run.id, artifact: 'model.pkl', force: true });
  assert.deepEqual(v.forced, ['accuracy>=0.999']);
  const before = deployments.list().length;
  await assert.rejects(deployments.deploy('gated'), (err: Error) => err instanceof GateError && /accuracy>=0\.999: accuracy is [\d.]+, which fails >= 0\.999/.test(err.message));
  assert.equal(deployments.list().length, before, 'nothing was deployed');

  const forced = await deployments.deploy('gated', { force: true });
  assert.equal(forced.deployment.status, 'running', forced.deployment.error ?? '');
  assert.deepEqual(forced.deployment.forced, ['accuracy>=0.999']);
  assert.deepEqual(deployments.get(forced.deployment.id).forced, ['accuracy>=0.999']);
  await deployments.stop(forced.deployment.id);
});

test('CLI end to end: deploy prints the token once, the server outlives the CLI, a killed server is found "stopped unexpectedly", rollback, undeploy, lineage', async () => {
  const run = (...args: string[]) => cli(args, { cwd: workspace });
  const deployed = run('deploy', 'clf@2', '--json');
  assert.equal(deployed.code, 0, deployed.stderr);
  const d = json(deployed);
  for (const key of ['id', 'url', 'token', 'status', 'target', 'model', 'version']) assert.ok(key in d, key);
  assert.deepEqual([d.status, d.target, d.model, d.version], ['running', 'local', 'clf', 2]);
  assertSameAs((await predict(d.url, d.token)).body, expected.b);

  const listed = json(run('deployments', '--json')).find((x: { id: number }) => x.id === d.id);
  assert.equal(listed.status, 'running');
  assert.equal(listed.requests.requests, 1);
  assert.ok(!JSON.stringify(listed).includes(d.token), 'the token is never listed');

  const back = json(run('rollback', String(d.id), '--json'));
  assert.deepEqual([back.status, back.version, back.replaces, back.url], ['running', 1, d.id, d.url]);
  assert.equal(back.token, null, 'the token is kept, so it is not shown again');
  assertSameAs((await predict(back.url, d.token)).body, expected.a);

  const lin = json(run('lineage', `deployment:${back.id}`, '--json'));
  assert.equal(lin.chain.run.id, runA.id);
  assert.equal(lin.chain.inputs[0].fingerprint, sha256File(data));
  assert.equal(lin.chain.commit.commit, COMMIT);
  assert.match(run('lineage', `deployment:${back.id}`).stdout, /deployment \d+ local \[running\][\s\S]*← model clf@1[\s\S]*← run \d+ lr-c1[\s\S]*commit 3f2a9c1d[\s\S]*← input data\/train\.csv/);

  // Killed behind Runboard's back: the next look finds it gone.
  const pid = json(run('deployments', '--json')).find((x: { id: number }) => x.id === back.id).pid as number;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !processAlive(pid), 10_000, 'the killed server to exit');
  const after = json(run('deployments', '--json')).find((x: { id: number }) => x.id === back.id);
  assert.equal(after.status, 'stopped unexpectedly');

  const gated = run('deploy', 'gated');
  assert.equal(gated.code, 2);
  assert.match(gated.stderr, /Refusing to deploy gated@1: promotion gate of profile "strict" failed: accuracy>=0\.999/);
  const again = run('deploy', 'clf', '--port', String(back.port), '--json');
  assert.equal(json(again).status, 'running', again.stderr);
  assert.equal(json(again).url, back.url);
  const undeployed = run('undeploy', String(json(again).id));
  assert.match(undeployed.stdout, /clf@1, local\): stopped/, 'NAME alone deploys the champion (v1), not the latest');
  assert.equal(run('undeploy', '999').code, 2);
});
