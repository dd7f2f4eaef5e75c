// The real MLflow Python client (fluent API, MlflowClient, log_batch, nested runs, search) against
// `runboard serve`, checked in the store it wrote. Run by `npm run test:mlflow-peer`.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { runPython, startServe } from './peer.ts';

test('the fluent API and MlflowClient log one parent and one nested run, all of it in the store', async () => {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'runboard-peer-')), '.runboard', 'runboard.db');
  const served = await startServe(dbPath);
  let result;
  try {
    result = await runPython(join(import.meta.dirname, 'tracking.py'), served);
  } finally {
    await served.stop();
  }
  assert.equal(result.code, 0, result.stderr);
  const report = result.report as { parent: string; child: string; history: number; odd: unknown[]; changed_param: string; found: string[]; children: string[]; status: string };
  assert.equal(report.history, 1000);
  assert.deepEqual(report.odd, ['nan', 'inf'], 'NaN and Inf come back as they were logged');
  assert.equal(report.changed_param, 'INVALID_PARAMETER_VALUE');
  assert.deepEqual(report.found, [report.parent]);
  assert.equal(report.status, 'FINISHED');
  const more = result.report as { experiments: string[]; experiment_tags: Record<string, string>; ordered_first: string; active_after_delete: string[]; parent_tags: Record<string, string> };
  assert.deepEqual(more.experiments, ['peer-tracking']);
  assert.equal(more.experiment_tags.purpose, 'peer');
  assert.equal(more.ordered_first, report.parent, 'order_by a metric puts the run with it first');
  assert.deepEqual(more.active_after_delete, [report.parent], 'a deleted run leaves the search');
  assert.equal(more.parent_tags['mlflow.runName'], 'parent');
  assert.equal(more.parent_tags['mlflow.source.type'], 'LOCAL');
  const store = Store.open(dbPath);
  try {
    const parent = store.runByMlflowId(report.parent)!;
    const child = store.runByMlflowId(report.child)!;
    assert.equal(parent.experiment, 'peer-tracking');
    assert.equal(parent.name, 'parent');
    assert.equal(parent.status, 'finished');
    assert.ok(parent.user, 'the user the client sent');
    assert.deepEqual(store.params(parent.id), { batch_param: '1', epochs: '3', lr: '0.01', optimizer: 'adam' });
    assert.equal(store.tags(parent.id).team, 'cv');
    assert.equal(store.tags(parent.id).batch_tag, 'x');
    assert.equal(store.series(parent.id, 'batch').length, 1000);
    assert.deepEqual(store.series(parent.id, 'loss').map((p) => p.value), [0.5, 0.4]);
    assert.deepEqual(store.series(parent.id, 'odd').map((p) => p.value), [NaN, Infinity]);
    assert.equal(child.parentId, parent.id, 'start_run(nested=True) is a child run');
    assert.equal(child.name, 'child');
    assert.equal(child.status, 'finished');
    assert.deepEqual(report.children, [report.child]);
  } finally {
    store.close();
  }
});
