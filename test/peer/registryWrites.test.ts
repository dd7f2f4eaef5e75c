// The real MLflow Python client's registry and experiment writes against `runboard serve`, checked
// in the store it wrote. Run by `npm run test:mlflow-peer`.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { runPython, startServe } from './peer.ts';

test('tags, descriptions, stages, renames and deletions of models, versions and experiments, by the real client', { timeout: 300_000 }, async () => {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'runboard-peer-')), '.runboard', 'runboard.db');
  const served = await startServe(dbPath);
  let result;
  try {
    result = await runPython(join(import.meta.dirname, 'registryWrites.py'), served);
  } finally {
    await served.stop();
  }
  assert.equal(result.code, 0, result.stderr);
  const report = result.report as { run: string; checks: number };
  assert.equal(report.checks, 20, 'every check of the script ran');
  const store = Store.open(dbPath);
  try {
    const run = store.runByMlflowId(report.run)!;
    assert.equal(run.deletedAt, null, 'the run was restored with its experiment');
    assert.deepEqual(new Registry(store).list().map((v) => v.name).filter((n) => n.startsWith('peer-writes-')), [], 'the deleted model lists no versions');
    const moves = new Registry(store).aliasMoves().filter((m) => m.alias === 'champion').map((m) => m.toVersion);
    assert.deepEqual(moves, [null, 2], 'the alias removal is in the history');
  } finally {
    store.close();
  }
});
