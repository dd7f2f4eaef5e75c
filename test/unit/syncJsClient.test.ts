// The npm package `mlflow` (a JavaScript MLflow client written by others) reads back what `runboard push` sent.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { pushRuns, selectRuns } from '../../src/core/sync/push.ts';
import { tempStore } from './helpers.ts';
import { buildPushable, remoteWorkspace, testClient } from './syncHarness.ts';

type Call = (a: object) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Api {
  Experiments: { get: Call };
  Runs: { get: Call; search: Call };
  Metrics: { getHistory: Call };
}
const MLflow = createRequire(import.meta.url)('mlflow') as new (options: { endpoint: string; headers?: Record<string, string> }) => Api;

// The client prints every request it sends; keep the test output readable.
const log = console.log;
before(() => (console.log = () => {}));
after(() => (console.log = log));

test('the JavaScript MLflow client finds the pushed runs by experiment and tag, with their params, tags, status and every point', async () => {
  const { store } = tempStore();
  const remote = await remoteWorkspace();
  const { run, child } = buildPushable(store, { points: 3000 });
  store.markEnded(run.id, { status: 'killed' });
  const pushed = await pushRuns(store, testClient(remote.server.url, remote.server.token), selectRuns(store, { all: true }));
  assert.equal(pushed.failure, undefined);

  const js = new MLflow({ endpoint: remote.server.url, headers: { Authorization: `Bearer ${remote.server.token}` } });
  const { experiment } = await js.Experiments.get({ experiment_id: store.sync.link(run.id, remote.server.url)!.remoteExperimentId });
  assert.equal(experiment.name, 'team-exp');
  const found = await js.Runs.search({ experiment_ids: [experiment.experiment_id], filter: `tags.\`runboard.run\` = '${run.mlflowId}'` });
  assert.equal(found.runs.length, 1);
  const { run: got } = await js.Runs.get({ run_id: found.runs[0].info.run_id });
  assert.equal(got.info.run_name, 'baseline');
  assert.equal(got.info.status, 'KILLED');
  assert.equal(got.info.user_id, 'ada');
  assert.equal(Number(got.info.end_time), store.run(run.id)!.endedAt);
  assert.deepEqual(got.data.params, [{ key: 'layers', value: '3' }, { key: 'lr', value: '0.01' }]);
  const tags = Object.fromEntries((got.data.tags as { key: string; value: string }[]).map((t) => [t.key, t.value]));
  assert.equal(tags.note, 'first try');
  assert.equal(tags['mlflow.source.git.commit'], 'a'.repeat(40));
  const history = await js.Metrics.getHistory({ run_id: got.info.run_id, metric_key: 'loss' });
  const local = store.series(run.id, 'loss');
  assert.equal(history.metrics.length, 3000);
  assert.deepEqual(
    history.metrics.map((m: { step: number; value: number | string; timestamp: number }) => [Number(m.step), Number(m.value), Number(m.timestamp)]),
    local.map((p) => [p.step, p.value, p.wall]),
  );
  const children = await js.Runs.search({ experiment_ids: [experiment.experiment_id], filter: `tags.\`mlflow.parentRunId\` = '${got.info.run_id}'` });
  assert.deepEqual(children.runs.map((r: { info: { run_name: string } }) => r.info.run_name), [child.name]);
});
