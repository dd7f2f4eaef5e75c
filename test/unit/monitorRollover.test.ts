// A deployment that replaces another (rollback, a retrained model rolled over) collects the same
// baseline: the served rows that become its drift reference when the model's run logged none.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { monitorDeployment } from '../../src/core/monitor/monitor.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { tempStore } from './helpers.ts';
import { recordRun, trainModels } from './registryFixtures.ts';

// Registered before the store's own hooks, so every server is stopped while the store is still open.
after(async () => {
  for (const d of deployments.list()) await deployments.stop(d.id).catch(() => undefined);
});
const { store, workspace } = tempStore();
const expected = trainModels(workspace);
const registry = new Registry(store);
for (const [key, model] of [['a', 'model_a.pkl'], ['b', 'model_b.pkl']] as const) {
  const run = recordRun(store, workspace, { model: join(workspace, model), data: join(workspace, 'train.csv'), name: `lr-${key}`, metrics: { accuracy: expected[key].accuracy } });
  registry.register({ name: 'clf', run: run.id, artifact: 'model.pkl' });
}
const deployments = new Deployments(store, { settings: {} });

async function predict(url: string, token: string, rows: number[][]): Promise<void> {
  const res = await fetch(`${url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ instances: rows }) });
  assert.equal(res.status, 200, await res.text());
}

test('a rollback keeps the baseline size of the deployment it replaces; its served rows become a baseline of that size', { timeout: 60_000 }, async () => {
  const first = await deployments.deploy('clf@2', { baselineRows: 7 });
  assert.equal(first.deployment.status, 'running', first.deployment.error ?? '');
  assert.equal(first.deployment.config.baselineRows, 7);

  const back = await deployments.rollback(first.deployment.id, { token: first.token });
  assert.equal(back.deployment.status, 'running', back.deployment.error ?? '');
  assert.equal(back.deployment.version, 1);
  assert.equal(back.deployment.config.baselineRows, 7, 'recorded on the replacement, so a further roll-over carries it too');

  await predict(back.deployment.url!, first.token, expected.rows.slice(0, 5));
  assert.equal(monitorDeployment(store, back.deployment.id).reference?.ready, false, '5 of 7 rows: still collecting');
  await predict(back.deployment.url!, first.token, expected.rows.slice(5, 9));
  const reference = monitorDeployment(store, back.deployment.id).reference;
  assert.deepEqual([reference?.source, reference?.ready, reference?.rows, reference?.baselineRows], ['baseline', true, 7, 7]);
});

test('an explicit baseline size on the roll-over wins; a deployment made without one records none', { timeout: 60_000 }, async () => {
  const first = await deployments.deploy('clf@2');
  assert.equal(first.deployment.status, 'running', first.deployment.error ?? '');
  assert.equal(first.deployment.config.baselineRows, undefined);
  const back = await deployments.rollback(first.deployment.id, { token: first.token, baselineRows: 3 });
  assert.equal(back.deployment.status, 'running', back.deployment.error ?? '');
  assert.equal(back.deployment.config.baselineRows, 3);
  await predict(back.deployment.url!, first.token, expected.rows.slice(0, 3));
  assert.equal(monitorDeployment(store, back.deployment.id).reference?.baselineRows, 3);
});
