import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { cli, json } from './cliHarness.ts';
import { tempStore } from './helpers.ts';
import { recordRun, trainModels } from './registryFixtures.ts';

// Registered before the store's own hooks, so every server is stopped while the store is still open.
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const { store, workspace } = tempStore();
const expected = trainModels(workspace);
const data = join(workspace, 'train.csv');
const registry = new Registry(store);
for (const key of ['a', 'b'] as const) {
  const run = recordRun(store, workspace, { model: join(workspace, `model_${key}.pkl`), data, name: `lr-${key}` });
  registry.register({ name: 'clf', run: run.id, artifact: 'model.pkl' });
}
cleanups.push(async () => {
  const deployments = new Deployments(store, { settings: {} });
  for (const d of deployments.list()) await deployments.stop(d.id).catch(() => undefined);
});

const run = (args: string[], env: Record<string, string> = {}) => cli(args, { cwd: workspace, env });

async function predict(url: string, token: string | undefined): Promise<{ status: number; predictions?: number[] }> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ instances: expected.rows }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, predictions: ((await res.json()) as { predictions?: number[] }).predictions };
}

test('the model server has its token in neither /proc/PID/environ nor its command line, and still requires it', async () => {
  const token = 'tok-kept-out-of-proc-0123456789';
  const deployed = run(['deploy', 'clf@2', '--json'], { RUNBOARD_DEPLOY_TOKEN: token, RUNBOARD_SERVER_TOKEN: token });
  assert.equal(deployed.code, 0, deployed.stderr);
  const d = json(deployed);
  assert.equal(d.status, 'running', d.error);
  const pid = json(run(['deployments', '--json'])).find((x: { id: number }) => x.id === d.id).pid as number;
  for (const file of ['environ', 'cmdline']) {
    assert.ok(!readFileSync(`/proc/${pid}/${file}`, 'latin1').includes(token), `the token is in /proc/${pid}/${file}`);
  }
  assert.deepEqual(await predict(d.url, undefined), { status: 401, predictions: undefined });
  assert.deepEqual(await predict(d.url, `${token}x`), { status: 401, predictions: undefined });
  assert.deepEqual(await predict(d.url, token), { status: 200, predictions: expected.b.predictions });
  assert.equal(run(['undeploy', String(d.id)]).code, 0);
});

test('`runboard rollback ID` keeps the token, so clients of the URL keep working', async () => {
  const d = json(run(['deploy', 'clf@2', '--json']));
  assert.equal(d.status, 'running', d.error);
  assert.equal((await predict(d.url, d.token)).status, 200);

  const rolled = run(['rollback', String(d.id)]);
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stdout, new RegExp(`Token: unchanged \\(the one of deployment ${d.id}\\)`));
  assert.ok(!rolled.stdout.includes(d.token));
  const back = json(run(['deployments', '--json'])).find((x: { replaces: number | null }) => x.replaces === d.id);
  assert.deepEqual([back.status, back.version, back.url], ['running', 1, d.url]);
  assert.deepEqual(await predict(back.url, d.token), { status: 200, predictions: expected.a.predictions }, 'the old token still works');
  assert.equal((await predict(back.url, undefined)).status, 401, 'and is still required');

  // A token given in RUNBOARD_DEPLOY_TOKEN replaces it, as before.
  const again = json(run(['deploy', 'clf@2', '--json']));
  const replaced = json(run(['rollback', String(again.id), '--json'], { RUNBOARD_DEPLOY_TOKEN: 'tok-new-one' }));
  assert.equal((await predict(replaced.url, 'tok-new-one')).status, 200);
  assert.equal((await predict(replaced.url, again.token)).status, 401);
  assert.equal(run(['undeploy', String(replaced.id)]).code, 0);
});
