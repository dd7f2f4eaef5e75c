// The real MLflow Python client's artifacts, sklearn autolog, log-model, register_model, aliases and
// models:/ loads against `runboard serve`, checked in the store it wrote. Run by `npm run test:mlflow-peer`.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { runPython, startServe } from './peer.ts';

test('artifacts round-trip, an autologged model loads back through runs:/ and models:/name@alias, and lands in the registry with lineage', { timeout: 300_000 }, async () => {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'runboard-peer-')), '.runboard', 'runboard.db');
  const served = await startServe(dbPath);
  let result;
  try {
    result = await runPython(join(import.meta.dirname, 'artifactsRegistry.py'), served);
  } finally {
    await served.stop();
  }
  assert.equal(result.code, 0, result.stderr);
  const report = result.report as { files_run: string; autolog_run: string; model: string; checks: number };
  assert.equal(report.checks, 16, 'every check of the script ran');
  const store = Store.open(dbPath);
  try {
    const files = store.runByMlflowId(report.files_run)!;
    assert.deepEqual(store.artifacts(files.id).map((a) => [a.path, a.kind]), [
      ['artifacts/a.txt', 'other'],
      ['artifacts/d.json', 'data'],
      ['artifacts/sub/deeper/weights.bin', 'other'],
    ]);
    const trained = store.runByMlflowId(report.autolog_run)!;
    assert.equal(store.artifacts(trained.id).find((a) => a.path === 'artifacts/model')?.kind, 'model', 'log-model recorded the folder');
    assert.ok(store.inputs(trained.id).length > 0, 'autolog logged its dataset as an input');
    const registry = new Registry(store);
    const versions = registry.list(report.model);
    assert.deepEqual(versions.map((v) => [v.version, v.runId]), [[2, trained.id], [1, trained.id]]);
    assert.equal(registry.verifiedPath(versions[1]!), versions[1]!.storedPath, 'the stored folder still has its registered sha256');
    assert.ok(store.downstream('run', trained.id).some((e) => e.dstKind === 'model_version' && e.dstId === versions[1]!.id));
  } finally {
    store.close();
  }
});
