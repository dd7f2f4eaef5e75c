import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushRuns, selectRuns } from '../../src/core/sync/push.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempStore } from './helpers.ts';
import { buildPushable, closedPort, faultProxy, remoteCopy, remoteWorkspace, serveChild, sha256, testClient } from './syncHarness.ts';

const pointCount = (store: Store, runId: number): number => Object.values(store.summaries(runId)).reduce((n, s) => n + s.count, 0);

test('push: a run arrives once with params, tags, commit, every point (NaN and ±Inf kept), artifact, patch, input and its child; a second push sends nothing', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  const { run, child, artifact } = buildPushable(store);
  const client = testClient(proxy.url, remote.server.token);

  const first = await pushRuns(store, client, selectRuns(store, { runs: [String(child.id)] }));
  assert.equal(first.failure, undefined);
  assert.deepEqual(first.runs.map((r) => r.name), ['baseline', 'fold-1'], 'the parent goes first, pushed with its child');
  assert.equal(first.sent.points, 2500 + 250 + 1);
  assert.equal(proxy.storedPoints, 2751);

  const copy = remoteCopy(remote.store, run);
  assert.equal(copy.experiment, 'team-exp');
  assert.equal(copy.name, 'baseline');
  assert.equal(copy.user, 'ada');
  assert.equal(copy.status, 'running', 'a running run is pushed as running');
  assert.deepEqual(remote.store.params(copy.id), { layers: '3', lr: '0.01' });
  assert.equal(remote.store.tags(copy.id).note, 'first try');
  assert.equal(remote.store.tags(copy.id)['mlflow.source.git.branch'], 'main');
  assert.equal(remote.store.codeState(copy.id)?.commit, 'a'.repeat(40));
  const loss = remote.store.series(copy.id, 'loss');
  assert.deepEqual(loss, store.series(run.id, 'loss'), 'every point with its step, wall and value');
  assert.ok(loss.some((p) => Number.isNaN(p.value)) && loss.some((p) => p.value === Infinity) && loss.some((p) => p.value === -Infinity));
  assert.equal(remote.store.series(copy.id, 'val/acc').length, 250);
  const artifacts = Object.fromEntries(remote.store.artifacts(copy.id).map((a) => [a.path, a.sha256]));
  assert.equal(artifacts['artifacts/model.txt'], sha256(artifact));
  assert.equal(artifacts['artifacts/runboard/uncommitted.patch'], sha256('diff --git a/x b/x\n+1\n'));
  assert.deepEqual(remote.store.inputs(copy.id).map((i) => [i.path, i.fingerprint]), [['/data/train.csv', 'f'.repeat(36)]]);
  assert.equal(remoteCopy(remote.store, child).parentId, copy.id);
  assert.equal(remoteCopy(remote.store, child).status, 'finished');

  const requests = proxy.requests;
  const second = await pushRuns(store, client, selectRuns(store, { all: true }));
  assert.equal(second.sent.runs, 0);
  assert.equal(proxy.storedPoints, 2751, 'no point sent twice');
  assert.equal(proxy.requests - requests, 0, 'nothing new: not one request (the experiment is only looked up for a run to create)');
  assert.equal(remote.store.runs().length, 2);
});

test('push: a running run sends what it has, the next push only the new points, the end and new params', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  const { run } = buildPushable(store, { points: 1200 });
  const client = testClient(proxy.url, remote.server.token);
  await pushRuns(store, client, [run]);
  const before = proxy.storedPoints;
  store.logMetrics(run.id, Array.from({ length: 300 }, (_, i) => ({ key: 'loss', step: 1200 + i, value: i })));
  store.setParams(run.id, { epochs: 5 });
  store.markEnded(run.id, { status: 'failed', error: 'boom' });
  const again = await pushRuns(store, client, [store.run(run.id)!]);
  assert.equal(again.sent.points, 300);
  assert.equal(again.sent.params, 1);
  assert.equal(proxy.storedPoints - before, 300);
  const copy = remoteCopy(remote.store, run);
  assert.equal(copy.status, 'failed');
  assert.equal(copy.endedAt, store.run(run.id)!.endedAt);
  assert.equal(remote.store.series(copy.id, 'loss').length, 1500);
  assert.equal(remote.store.params(copy.id).epochs, '5');
});

test('push: 500s from a proxy on some requests are retried; a server that keeps failing is one line, and the next push completes with nothing twice', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  const { run } = buildPushable(store, { points: 5000 });
  const client = testClient(proxy.url, remote.server.token, 2);

  proxy.failWhen = (n) => n % 3 === 0;
  const flaky = await pushRuns(store, client, [run]);
  assert.equal(flaky.failure, undefined, 'every third request failing once is retried');
  assert.equal(proxy.storedPoints, 5500);

  const { store: other } = tempStore();
  const second = buildPushable(other, { points: 5000 });
  let batches = 0;
  proxy.failWhen = (_n, path) => path.endsWith('/runs/log-batch') && ++batches > 2;
  const before = proxy.storedPoints;
  const failed = await pushRuns(other, client, [second.run]);
  assert.match(failed.failure ?? '', /^the MLflow server at http:\/\/127\.0\.0\.1:\d+ failed \(500 Internal Server Error\) on runs\/log-batch 3 times: Internal Server Error$/);
  proxy.failWhen = () => false;
  const resumed = await pushRuns(other, client, [second.run]);
  assert.equal(resumed.failure, undefined);
  assert.equal(proxy.storedPoints - before, 5500, 'each point stored exactly once over both pushes');
  assert.equal(pointCount(remote.store, remoteCopy(remote.store, second.run).id), 5500);
});

test('push: a metric batch whose answer is lost is not sent again: the next push asks the server what arrived', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  const { run } = buildPushable(store, { points: 4000 });
  const client = testClient(proxy.url, remote.server.token);
  proxy.dropAnswerOfBatch = 2;
  const cut = await pushRuns(store, client, [run]);
  assert.match(cut.failure ?? '', /^cannot reach the MLflow server at http:\/\/127\.0\.0\.1:\d+ \(/);
  assert.equal(proxy.storedPoints, 2000, 'the server stored the batch whose answer was lost');
  assert.equal(store.sync.link(run.id, proxy.url)?.uncertain, true);
  proxy.dropAnswerOfBatch = 0;
  const resumed = await pushRuns(store, client, [run]);
  assert.equal(resumed.failure, undefined);
  assert.equal(proxy.storedPoints, 4400, 'every point stored once: the lost batch was not sent again');
  assert.equal(resumed.sent.points, 2400);
});

test('push: the remote server killed mid-push (a child process) is one line; restarted, the push resumes and every point is there once', async () => {
  const { store } = tempStore();
  const { dbPath: remoteDb } = tempStore();
  const token = 'sync-test-token';
  let served = await serveChild(remoteDb, 0, token);
  const port = Number(new URL(served.url).port);
  const { run } = buildPushable(store, { points: 30_000 });
  const client = testClient(served.url, token, 1);
  const cut = await pushRuns(store, client, [run], {
    onProgress: ({ points }) => {
      if (points >= 6000 && !served.child.killed) served.child.kill('SIGKILL');
    },
  });
  assert.match(cut.failure ?? '', /^cannot reach the MLflow server at http:\/\/127\.0\.0\.1:\d+ \((ECONNRESET|ECONNREFUSED|UND_ERR_SOCKET)\)$/);
  assert.ok(cut.sent.points >= 6000 && cut.sent.points < 33_000);
  if (served.child.signalCode === null) await new Promise((resolve) => served.child.once('exit', resolve));
  served = await serveChild(remoteDb, port, token);
  const resumed = await pushRuns(store, client, [run]);
  assert.equal(resumed.failure, undefined);
  const remote = Store.open(remoteDb, { readonly: true });
  try {
    const copy = remoteCopy(remote, run);
    assert.equal(remote.runs().length, 1, 'one remote run, not one per attempt');
    assert.equal(pointCount(remote, copy.id), 33_000);
    assert.deepEqual(remote.series(copy.id, 'loss'), store.series(run.id, 'loss'));
  } finally {
    remote.close();
  }
  served.child.kill('SIGTERM');
});

test('push: wrong credentials are one line naming the variables, nothing recorded as sent', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const { run } = buildPushable(store, { points: 10 });
  const refused = await pushRuns(store, testClient(remote.server.url, 'wrong-token'), [run]);
  assert.match(refused.failure ?? '', /^the MLflow server at http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized\): set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD$/);
  assert.equal(store.sync.link(run.id, remote.server.url), undefined);
  const closed = await closedPort();
  const unreachable = await pushRuns(store, testClient(`http://127.0.0.1:${closed}`, 'x', 0), [run]);
  assert.equal(unreachable.failure, `cannot reach the MLflow server at http://127.0.0.1:${closed} (ECONNREFUSED)`);
});

test('push: a run whose creation was sent by a push that died before recording it is found by its tag, not created twice', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const { run } = buildPushable(store, { points: 10 });
  const client = testClient(remote.server.url, remote.server.token);
  await pushRuns(store, client, [run]);
  const remoteId = store.sync.link(run.id, remote.server.url)!.remoteRunId!;
  // As a push that died between runs/create's answer and recording it leaves the row.
  store.db.prepare('UPDATE sync_runs SET remote_run_id = NULL WHERE run_id = ?').run(run.id);
  const again = await pushRuns(store, client, [run]);
  assert.equal(again.failure, undefined);
  assert.equal(store.sync.link(run.id, remote.server.url)!.remoteRunId, remoteId);
  assert.equal(remote.store.runs({ experiment: 'team-exp' }).filter((r) => r.name === 'baseline').length, 1);
});

test('selectRuns: --experiment, names, nothing chosen, pulled runs refused', () => {
  const { store } = tempStore();
  buildPushable(store, { points: 1 });
  store.createRun({ experiment: 'other', name: 'solo' });
  assert.deepEqual(selectRuns(store, { experiment: 'other' }).map((r) => r.name), ['solo']);
  assert.deepEqual(selectRuns(store, { runs: ['fold-1'] }).map((r) => r.name), ['baseline', 'fold-1']);
  assert.throws(() => selectRuns(store, {}), /say what to push: --all, --experiment NAME, or run ids or names/);
  assert.throws(() => selectRuns(store, { experiment: 'nope' }), /no experiment "nope"/);
  const pulled = store.createRun({ experiment: 'other', name: 'theirs' });
  store.sync.markPulled(pulled.id, 'http://team', 'b'.repeat(32), '1');
  assert.throws(() => selectRuns(store, { runs: ['theirs'] }), /was pulled from http:\/\/team; only runs recorded here are pushed/);
  assert.deepEqual(selectRuns(store, { all: true }).map((r) => r.name), ['baseline', 'fold-1', 'solo']);
});

test('push: registered versions go with their run (stored copy as an artifact, version, aliases); an alias moved later is moved there too', async () => {
  const { store, workspace } = tempStore();
  const remote = await remoteWorkspace();
  const { run } = buildPushable(store, { points: 10 });
  store.markEnded(run.id, { status: 'finished' });
  const registry = new Registry(store, workspace);
  registry.register({ name: 'churn', run: run.id, artifact: 'artifacts/model.txt', aliases: ['champion'] });
  registry.register({ name: 'churn', run: run.id, artifact: 'artifacts/model.txt', allowIdentical: true });
  const client = testClient(remote.server.url, remote.server.token);
  const first = await pushRuns(store, client, [store.run(run.id)!]);
  assert.equal(first.failure, undefined);
  assert.equal(first.sent.models, 2);
  const remoteRegistry = new Registry(remote.store, remote.workspace);
  const versions = remoteRegistry.list('churn');
  assert.deepEqual(versions.map((v) => [v.version, v.sha256, v.runId]).sort(), [
    [1, registry.get('churn', 1)!.sha256, remoteCopy(remote.store, run).id],
    [2, registry.get('churn', 2)!.sha256, remoteCopy(remote.store, run).id],
  ]);
  assert.equal(remote.store.models.aliasVersion('churn', 'champion'), 1);
  registry.setAlias('churn', 'champion', 2);
  const second = await pushRuns(store, client, [store.run(run.id)!]);
  assert.equal(second.sent.models, 0, 'no version created twice');
  assert.equal(remote.store.models.aliasVersion('churn', 'champion'), 2);
  assert.equal(remoteRegistry.list('churn').length, 2);
});

test('sync badges: none for a run only here, pushed, changed since push (a point, a param, the end), remote for a pulled run', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const { run, child } = buildPushable(store, { points: 20 });
  const lonely = store.createRun({ experiment: 'team-exp', name: 'lonely' });
  const badges = () => Object.fromEntries(store.sync.badges([run.id, child.id, lonely.id]));
  assert.deepEqual(badges(), {});
  const client = testClient(remote.server.url, remote.server.token);
  await pushRuns(store, client, [run, child]);
  assert.deepEqual(badges(), { [run.id]: 'pushed', [child.id]: 'pushed' });
  store.logMetrics(run.id, [{ key: 'loss', step: 20, value: 1 }]);
  store.setParams(child.id, { extra: 1 });
  assert.deepEqual(badges(), { [run.id]: 'changed', [child.id]: 'changed' });
  await pushRuns(store, client, [store.run(run.id)!, store.run(child.id)!]);
  assert.deepEqual(badges(), { [run.id]: 'pushed', [child.id]: 'pushed' });
  store.markEnded(run.id, { status: 'finished' });
  assert.equal(store.sync.badges([run.id]).get(run.id), 'changed', 'the end is not sent yet');
  store.sync.markPulled(lonely.id, 'http://team', 'c'.repeat(32), '1');
  assert.equal(store.sync.badges([lonely.id]).get(lonely.id), 'remote');
});

test('push: the same server under another URL (a proxy before it) finds the runs by their tag and sends no point again', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const { run } = buildPushable(store, { points: 1500 });
  await pushRuns(store, testClient(remote.server.url, remote.server.token), [run]);
  store.logMetrics(run.id, [{ key: 'loss', step: 1500, value: 0 }]);
  const proxy = await faultProxy(remote.server.url);
  const again = await pushRuns(store, testClient(proxy.url, remote.server.token), [run]);
  assert.equal(again.failure, undefined);
  assert.equal(again.runs[0]?.created, false);
  assert.equal(proxy.storedPoints, 1, 'only the new point');
  assert.equal(remote.store.runs({ experiment: 'team-exp' }).filter((r) => r.name === 'baseline').length, 1);
});
