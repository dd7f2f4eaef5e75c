import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { fetchArtifact, pullRuns } from '../../src/core/sync/pull.ts';
import { pushRuns, selectRuns } from '../../src/core/sync/push.ts';
import { tempStore } from './helpers.ts';
import { buildPushable, faultProxy, remoteWorkspace, sha256, testClient } from './syncHarness.ts';

/** A teammate's run as their own Runboard (or MLflow client) recorded it on the shared server. */
async function teammateRun(remote: Awaited<ReturnType<typeof remoteWorkspace>>, points: number): Promise<Run> {
  const run = remote.store.createRun({ experiment: 'team-exp', name: 'grace-sweep-3', params: { lr: 0.3 }, user: 'grace', status: 'running', startedAt: 1_700_000_000_000 });
  remote.store.setTags(run.id, { team: 'vision', 'mlflow.source.git.branch': 'exp/aug' });
  remote.store.setCodeState(run.id, { commit: 'c'.repeat(40), branch: 'exp/aug', dirty: false, patch: null, patchTruncated: false });
  remote.store.logMetrics(run.id, Array.from({ length: points }, (_, step) => ({ key: 'loss', step, value: step === 3 ? NaN : 1 / (step + 1), wall: 1_700_000_000_000 + step })));
  const uploaded = await fetch(`${remote.server.url}/api/2.0/mlflow-artifacts/artifacts/${run.experimentId}/${run.mlflowId}/artifacts/plots/roc.txt`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${remote.server.token}` },
    body: 'roc curve\n',
  });
  assert.equal(uploaded.status, 200);
  remote.store.markEnded(run.id, { status: 'finished' });
  return remote.store.run(run.id)!;
}

const pulledCopy = (store: Store, remoteUrl: string, remoteRun: Run): Run => store.run(store.sync.byRemoteRunId(remoteUrl, remoteRun.mlflowId)!.runId)!;

test("pull: a teammate's run arrives read-only-marked with its author, params, tags, commit and full history; our pushed runs never come back; a second pull reads nothing again", async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  const client = testClient(proxy.url, remote.server.token);
  buildPushable(store, { points: 100 });
  assert.equal((await pushRuns(store, client, selectRuns(store, { all: true }))).sent.runs, 2);
  const theirs = await teammateRun(remote, 30_000);

  const first = await pullRuns(store, client);
  assert.equal(first.ours, 2, 'the two runs pushed from here are recognized');
  assert.deepEqual(first.runs.map((r) => [r.name, r.author, r.created]), [['grace-sweep-3', 'grace', true]]);
  const copy = pulledCopy(store, proxy.url, theirs);
  assert.equal(store.sync.runRemote(copy.id), proxy.url);
  assert.equal(copy.experiment, 'team-exp');
  assert.equal(copy.user, 'grace');
  assert.equal(copy.status, 'finished');
  assert.equal(copy.startedAt, 1_700_000_000_000);
  assert.equal(copy.endedAt, theirs.endedAt);
  assert.deepEqual(store.params(copy.id), { lr: '0.3' });
  assert.equal(store.tags(copy.id).team, 'vision');
  assert.equal(store.codeState(copy.id)?.commit, 'c'.repeat(40));
  assert.equal(store.codeState(copy.id)?.branch, 'exp/aug');
  assert.deepEqual(store.series(copy.id, 'loss'), remote.store.series(theirs.id, 'loss'), '30,000 points over two pages of get-history, NaN kept');
  assert.equal(store.runs().length, 3, 'two runs of ours and the teammate run: nothing copied back');
  assert.deepEqual(store.artifacts(copy.id).map((a) => [a.path, a.size, a.sha256]), [['artifacts/plots/roc.txt', 10, '']], 'listed, not fetched');

  const requests = proxy.requests;
  const second = await pullRuns(store, client);
  assert.deepEqual([second.runs.length, second.unchanged, second.ours], [0, 1, 2]);
  assert.ok(proxy.requests - requests <= 3, `only the listing is read again (${proxy.requests - requests} requests)`);
  assert.equal(store.runs().length, 3);

  remote.store.setRunStatus(theirs.id, 'running', null);
  remote.store.logMetrics(theirs.id, [{ key: 'loss', step: 30_000, value: 0.1, wall: 1_700_000_100_000 }, { key: 'acc', step: 0, value: 0.5, wall: 1_700_000_100_000 }]);
  const third = await pullRuns(store, client, { experiment: 'team-exp' });
  assert.deepEqual(third.runs.map((r) => [r.name, r.created, r.points]), [['grace-sweep-3', false, 2]], 'the changed run is read again, only the new points stored');
  assert.equal(store.run(copy.id)!.status, 'running');
  assert.equal(store.series(copy.id, 'loss').length, 30_001);
});

test('pull: artifacts come on demand, by their sha256; --experiment that the server lacks is one line', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const client = testClient(remote.server.url, remote.server.token);
  const theirs = await teammateRun(remote, 10);
  await pullRuns(store, client);
  const copy = pulledCopy(store, remote.server.url, theirs);
  const file = await fetchArtifact(store, client, copy.id, 'artifacts/plots/roc.txt');
  assert.equal(readFileSync(file, 'utf8'), 'roc curve\n');
  assert.deepEqual(store.artifacts(copy.id).map((a) => [a.path, a.sha256]), [['artifacts/plots/roc.txt', sha256('roc curve\n')]]);
  assert.equal(await fetchArtifact(store, client, copy.id, 'artifacts/plots/roc.txt'), file, 'fetched once');
  await assert.rejects(fetchArtifact(store, client, copy.id, 'artifacts/nope.txt'), /has no artifact artifacts\/nope\.txt/);
  await assert.rejects(pullRuns(store, client, { experiment: 'nope' }), /^UserError: the MLflow server at http:\/\/127\.0\.0\.1:\d+ has no experiment "nope"$/);
});
