import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { sha256File } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';
import { SYSTEM_PYTHON } from './registryFixtures.ts';

const TRAIN = `
import json, os, pickle
from sklearn.linear_model import LogisticRegression
rows = [[float(v) for v in line.split(",")] for line in open("data.csv").read().split()]
X, y = [r[:2] for r in rows], [int(r[2]) for r in rows]
model = LogisticRegression().fit(X, y)
out = os.environ["RUNBOARD_RUN_DIR"]
pickle.dump(model, open(os.path.join(out, "model.pkl"), "wb"))
probe = [[0.2, 0.1], [1.5, 1.2], [-1.0, 3.0]]
json.dump({"rows": probe, "predictions": model.predict(probe).tolist()}, open(os.path.join(out, "expected.json"), "w"))
`;

// Hooked before the workspace's removal, so a server left by a failed assertion is stopped first.
after(async () => {
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'));
  const deployments = new Deployments(store, { settings: {} });
  for (const d of deployments.list()) await deployments.stop(d.id).catch(() => undefined);
  store.close();
});
const workspace = tempDir();

test('end to end through `runboard run`: train, register, deploy, predict, and trace the deployment back to its data and commit', async () => {
  writeFileSync(join(workspace, 'train.py'), TRAIN);
  writeFileSync(join(workspace, 'data.csv'), ['0,0,0', '1,1,1', '0,1,0', '1,0,1', '2,2,1', '-1,0,0', '0.5,-1,0', '1.5,1,1'].join('\n'));
  const identity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: workspace, env: { ...process.env, ...identity }, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', 'train.py', 'data.csv');
  git('commit', '-q', '-m', 'train');
  const commit = git('rev-parse', 'HEAD');

  const run = (...args: string[]) => cli(args, { cwd: workspace });
  const trained = run('run', '--name', 'e2e', '--input', 'data.csv', '--', SYSTEM_PYTHON, 'train.py');
  assert.equal(trained.code, 0, trained.stderr);
  const registered = run('models', 'register', 'e2e', 'model.pkl', '--name', 'e2e-model', '--alias', 'champion', '--json');
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(json(registered).version, 1);

  const deployed = json(run('deploy', 'e2e-model@champion', '--json'));
  assert.equal(deployed.status, 'running', deployed.error);
  const runDir = join(workspace, '.runboard', 'runs', '1');
  const expected = JSON.parse(readFileSync(join(runDir, 'expected.json'), 'utf8')) as { rows: number[][]; predictions: number[] };
  const res = await fetch(`${deployed.url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${deployed.token}` }, body: JSON.stringify({ instances: expected.rows }) });
  assert.equal(res.status, 200);
  assert.deepEqual(((await res.json()) as { predictions: number[] }).predictions, expected.predictions);

  const chain = json(run('lineage', `deployment:${deployed.id}`, '--json')).chain;
  assert.deepEqual(chain.modelVersion, { id: 1, name: 'e2e-model', version: 1 });
  assert.equal(chain.run.name, 'e2e');
  assert.equal(chain.inputs[0].fingerprint, sha256File(join(workspace, 'data.csv')));
  assert.equal(chain.commit.commit, commit);
  assert.equal(run('undeploy', String(deployed.id)).code, 0);
});
