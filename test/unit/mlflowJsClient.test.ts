// The npm package `mlflow` (a JavaScript MLflow client written by others) against `runboard serve`.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { mlflowServer } from './mlflowHarness.ts';

interface Api {
  Experiments: { create(a: object): Promise<any>; get(a: object): Promise<any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  Runs: Record<'create' | 'get' | 'logMetric' | 'logParameter' | 'setTag' | 'logBatch' | 'search' | 'update' | 'delete' | 'restore' | 'deleteTag', (a: object) => Promise<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  Metrics: { getHistory(a: object): Promise<any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const MLflow = createRequire(import.meta.url)('mlflow') as new (options: { endpoint: string; headers?: Record<string, string> }) => Api;

// The client prints every request body it sends; keep the test output readable.
const log = console.log;
before(() => (console.log = () => {}));
after(() => (console.log = log));

test('the JavaScript client creates an experiment and a run, logs, reads back, searches and ends the run', async () => {
  const { store, server } = await mlflowServer();
  const client = new MLflow({ endpoint: server.url, headers: { Authorization: `Bearer ${server.token}` } });
  const { experiment_id } = await client.Experiments.create({ name: 'js-client' });
  assert.equal((await client.Experiments.get({ experiment_id })).experiment.name, 'js-client');
  const { run } = await client.Runs.create({ experiment_id, user_id: 'bo', start_time: Date.now(), tags: [{ key: 'mlflow.runName', value: 'from-js' }] });
  const run_id = run.info.run_id as string;
  await client.Runs.logMetric({ run_id, key: 'loss', value: 0.7, timestamp: Date.now(), step: 0 });
  await client.Runs.logParameter({ run_id, key: 'lr', value: '0.01' });
  await client.Runs.setTag({ run_id, key: 'team', value: 'ml' });
  await client.Runs.logBatch({
    run_id,
    metrics: Array.from({ length: 5 }, (_, i) => ({ key: 'loss', value: 0.6 - i / 10, timestamp: Date.now(), step: i + 1 })),
    params: [{ key: 'epochs', value: '5' }],
    tags: [{ key: 'stage', value: 'train' }],
  });
  const got = (await client.Runs.get({ run_id })).run;
  assert.equal(got.info.run_name, 'from-js');
  assert.equal(got.info.user_id, 'bo');
  assert.deepEqual(got.data.params, [{ key: 'epochs', value: '5' }, { key: 'lr', value: '0.01' }]);
  const history = await client.Metrics.getHistory({ run_id, metric_key: 'loss' });
  assert.deepEqual(history.metrics.map((m: { step: number }) => m.step), [0, 1, 2, 3, 4, 5]);
  const found = await client.Runs.search({ experiment_ids: [experiment_id], filter: "params.epochs = '5' and metrics.loss < 0.3" });
  assert.deepEqual(found.runs.map((r: { info: { run_id: string } }) => r.info.run_id), [run_id]);
  await client.Runs.update({ run_id, status: 'FINISHED', end_time: Date.now() });
  const recorded = store.runByMlflowId(run_id)!;
  assert.equal(recorded.status, 'finished');
  assert.equal(recorded.experiment, 'js-client');
  assert.deepEqual(store.tags(recorded.id), { stage: 'train', team: 'ml' });
  assert.equal(store.series(recorded.id, 'loss').length, 6);
  await assert.rejects(
    client.Runs.logBatch({ run_id, metrics: Array.from({ length: 1001 }, (_, step) => ({ key: 'm', value: 1, timestamp: 1, step })) }),
    /"status":400.*INVALID_PARAMETER_VALUE.*at most 1000 metrics/,
  );
  await client.Runs.delete({ run_id });
  assert.deepEqual((await client.Runs.search({ experiment_ids: [experiment_id] })).runs, undefined);
  await client.Runs.restore({ run_id });
  assert.equal((await client.Runs.search({ experiment_ids: [experiment_id] })).runs.length, 1);
});

test('the JavaScript client without the token is refused', async () => {
  const { server } = await mlflowServer();
  const client = new MLflow({ endpoint: server.url });
  await assert.rejects(client.Experiments.get({ experiment_id: '0' }), /"status":401.*UNAUTHENTICATED/);
});
