import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { loadsAsPickle, pickleWarning } from '../../src/core/registry/pickles.ts';
import { hashModel, Registry } from '../../src/core/registry/registry.ts';
import { hashTree } from '../../src/core/registry/modelTree.ts';
import { tempStore } from './helpers.ts';
import { trainModels } from './registryFixtures.ts';

/** A finished run whose folder holds an MLflow-style model folder, artifacts/model/. */
function setup() {
  const { store, workspace } = tempStore();
  const run = store.createRun({ name: 'mlflow-run' });
  const runDir = join(workspace, '.runboard', 'runs', String(run.id));
  const model = join(runDir, 'artifacts', 'model');
  mkdirSync(join(model, 'code'), { recursive: true });
  writeFileSync(join(model, 'MLmodel'), 'flavors:\n  sklearn: {}\n');
  writeFileSync(join(model, 'model.pkl'), 'pickled bytes');
  writeFileSync(join(model, 'code', 'util.py'), 'x = 1\n');
  writeFileSync(join(model, '.model.pkl.upload-1'), 'a half-written upload');
  store.setRunDir(run.id, runDir);
  return { store, workspace, run: store.run(run.id)!, model, registry: new Registry(store) };
}

test('a model folder registers whole: copied file by file, its sha256 that of a sorted manifest, its size the sum', () => {
  const { workspace, run, model, registry } = setup();
  const v = registry.register({ name: 'iris', run: run.id, artifact: 'artifacts/model' });
  assert.equal(v.storedPath, join(workspace, '.runboard', 'models', 'iris', '1', 'model'));
  assert.ok(statSync(v.storedPath).isDirectory());
  const tree = hashTree(model, (p) => hashModel(p).sha256);
  assert.deepEqual(tree.files, ['MLmodel', 'code/util.py', 'model.pkl'], 'dotfiles (uploads under way) are not part of the model');
  assert.equal(v.sha256, tree.sha256);
  assert.equal(v.size, 'flavors:\n  sklearn: {}\n'.length + 'pickled bytes'.length + 'x = 1\n'.length);
  assert.equal(statSync(join(v.storedPath, 'model.pkl')).ino, statSync(join(model, 'model.pkl')).ino, 'hard links, as for a file');
  assert.equal(registry.verifiedPath(v), v.storedPath);
  assert.deepEqual(v.snapshot.artifact, { path: 'artifacts/model', recorded: false });
});

test('a changed, added or renamed file in a stored folder fails verification; a link inside a model folder is refused', () => {
  const { run, model, registry } = setup();
  const v = registry.register({ name: 'iris', run: run.id, artifact: 'artifacts/model' });
  writeFileSync(join(v.storedPath, 'extra.txt'), 'added later');
  assert.throws(() => registry.verifiedPath(v), /changed since registration/);

  symlinkSync('/etc/passwd', join(model, 'passwd'));
  assert.throws(() => registry.register({ name: 'iris', run: run.id, artifact: 'artifacts/model' }), /passwd is a symbolic link/);
});

test('a folder the run recorded (log-model records its manifest sha256) must still match it', () => {
  const { store, run, model, registry } = setup();
  const { sha256, size } = hashModel(model);
  store.addArtifact(run.id, { path: 'artifacts/model', size, sha256, kind: 'model' });
  assert.equal(registry.register({ name: 'iris', run: run.id, artifact: 'artifacts/model' }).snapshot.artifact?.recorded, true);
  writeFileSync(join(model, 'model.pkl'), 'other bytes');
  assert.throws(() => registry.register({ name: 'iris', run: run.id, artifact: 'artifacts/model' }), /changed since the run recorded it/);
});

test('a model folder holding a pickle counts as one: unvouched, it gets the pickle warning', () => {
  const { model } = setup();
  assert.equal(loadsAsPickle(model), true);
  assert.match(pickleWarning(model, false) ?? '', /model is a pickle that no Runboard run wrote/);
  writeFileSync(join(model, 'model.pkl'), '');
  const plain = join(model, '..', 'plain');
  mkdirSync(plain);
  writeFileSync(join(plain, 'weights.onnx'), 'onnx');
  assert.equal(loadsAsPickle(plain), false);
});

test("an MLflow model folder deploys to the local server, which loads the pickle its MLmodel names", { timeout: 60_000 }, async () => {
  const { store, workspace, run, model, registry } = setup();
  const expected = trainModels(workspace);
  copyFileSync(join(workspace, 'model_a.pkl'), join(model, 'model.pkl'));
  writeFileSync(join(model, 'MLmodel'), 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n');
  registry.register({ name: 'iris', run: run.id, artifact: 'artifacts/model' });
  const deployments = new Deployments(store, { settings: {} });
  const { deployment, token } = await deployments.deploy('iris@1');
  try {
    assert.equal(deployment.status, 'running', deployment.error ?? '');
    const res = await fetch(`${deployment.url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ instances: expected.rows }) });
    assert.deepEqual(((await res.json()) as { predictions: number[] }).predictions, expected.a.predictions);
  } finally {
    await deployments.stop(deployment.id);
  }

  writeFileSync(join(model, 'MLmodel'), 'flavors:\n  pytorch: {}\n');
  registry.register({ name: 'torchy', run: run.id, artifact: 'artifacts/model' });
  const refused = await deployments.deploy('torchy@1');
  assert.match(refused.deployment.error ?? '', /an MLflow model without a scikit-learn pickle; serve it with a custom deploy target/);
});
