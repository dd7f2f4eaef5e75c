import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Registry } from '../../src/core/registry/registry.ts';
import { change, NO_CHANGE } from '../../src/core/store/changes.ts';
import type { ChangeToken } from '../../src/core/store/externalChanges.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempStore } from './helpers.ts';

/** The editor's store, and another connection to the same file (the CLI, a run's capture). */
function twoConnections() {
  const { store: editor, dbPath, workspace } = tempStore();
  const other = Store.open(dbPath);
  after(() => other.close());
  let token: ChangeToken = editor.changeToken();
  /** What the editor learns from the file since it last asked. */
  const since = () => {
    const result = editor.changesSince(token);
    token = result.token;
    return result.change;
  };
  return { editor, other, workspace, since };
}

test('changesSince names the runs another connection created, started, ended and logged to', () => {
  const { editor, other, since } = twoConnections();
  assert.deepEqual(since(), NO_CHANGE);
  const own = editor.createRun();
  assert.deepEqual(since(), NO_CHANGE, "the editor's own writes come as events, not from the file");

  const run = other.createRun({ params: { lr: 0.1 } });
  const queued = other.createRun();
  assert.deepEqual(since(), change({ runs: [own.id, run.id, queued.id] }), 'an own write next to others may be named again: one extra refresh, never a miss');
  other.markStarted(run.id, 4242);
  assert.deepEqual(since(), change({ runs: [run.id] }));
  other.logMetrics(run.id, [{ key: 'loss', step: 0, value: 1 }, { key: 'loss', step: 1, value: 0.5 }]);
  assert.deepEqual(since(), change({ metrics: [run.id] }), 'points alone are metrics, not a record change');
  other.transaction(() => {
    other.logMetrics(run.id, [{ key: 'loss', step: 2, value: 0.25 }]);
    other.markEnded(run.id, { status: 'finished', exitCode: 0 });
  });
  assert.deepEqual(since(), change({ runs: [run.id] }));
  other.logMetrics(run.id, [{ key: 'late', step: 0, value: 1 }]);
  assert.deepEqual(since(), NO_CHANGE, 'an ended run is no longer watched (only this editor changes it then)');

  other.deleteRun(queued.id);
  assert.deepEqual(since(), change({ deletedRuns: [queued.id] }));
  other.deleteRun(run.id);
  assert.deepEqual(since(), change({ everything: true }), 'deleting an ended run cannot be narrowed without listing every run');
});

test('changesSince names the models and deployments another connection changed', () => {
  const { other, workspace, since } = twoConnections();
  const model = join(workspace, 'model.pkl');
  writeFileSync(model, 'bytes');
  const registry = new Registry(other, workspace);
  const v1 = registry.register({ name: 'churn', file: model });
  registry.register({ name: 'fraud', file: model });
  assert.deepEqual(since(), change({ models: ['churn', 'fraud'] }));
  registry.setAlias('churn', 'champion', v1.version);
  assert.deepEqual(since(), change({ models: ['churn'] }));

  const id = other.deployments.create({ modelVersionId: v1.id, target: 'local', port: null, config: '{}', forced: null, replacesId: null, createdAt: Date.now() }, () => '/tmp/d');
  assert.deepEqual(since(), change({ deployments: [id] }));
  other.deployments.recordOutcome(id, { status: 'running', url: 'http://127.0.0.1:1', port: 1, pid: 99, config: '{}', error: null });
  assert.deepEqual(since(), change({ deployments: [id] }));
  other.deployments.markStopped(id);
  assert.deepEqual(since(), change({ deployments: [id] }), 'a deployment that stopped is seen stopping');
  other.createRun();
  assert.equal(since().deployments.length, 0, 'a stopped deployment is no longer compared');
});

test('nothing changed costs one statement; without a token everything is new', () => {
  const { editor, other, since } = twoConnections();
  since();
  const before = editor.statementsExecuted;
  assert.deepEqual(since(), NO_CHANGE);
  assert.equal(editor.statementsExecuted - before, 1, 'PRAGMA data_version alone');
  other.createRun();
  assert.deepEqual(editor.changesSince(undefined).change, change({ everything: true }));
});
