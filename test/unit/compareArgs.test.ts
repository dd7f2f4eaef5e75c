import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeStateDocument } from '../../src/core/compare/codeState.ts';
import { runIdsOfArgs as runIdsFromArgs } from '../../src/vscode/commands/shared/runArgs.ts';
import { codeStatePath, runIdFromCodeStatePath } from '../../src/vscode/webviews/compare/codeStatePaths.ts';
import { tempStore } from './helpers.ts';

test('command arguments: ids, tree nodes, VS Code multi-select (node, selectedNodes), lists', () => {
  assert.deepEqual(runIdsFromArgs([]), []);
  assert.deepEqual(runIdsFromArgs([3]), [3]);
  assert.deepEqual(runIdsFromArgs([3, '4', ' 5 ']), [3, 4, 5]);
  assert.deepEqual(runIdsFromArgs([[1, 2, 2, 3]]), [1, 2, 3]);
  assert.deepEqual(runIdsFromArgs([{ run: { id: 7 } }]), [7]);
  // A context menu on a multi-selection: the clicked node and the whole selection.
  assert.deepEqual(runIdsFromArgs([{ run: { id: 7 } }, [{ run: { id: 5 } }, { run: { id: 7 } }, { run: { id: 9 } }]]), [5, 7, 9]);
  // A context menu on one node: no selection list.
  assert.deepEqual(runIdsFromArgs([{ run: { id: 7 } }, undefined]), [7]);
  // VS Code hands undefined for an item it no longer knows: the clicked node still counts.
  assert.deepEqual(runIdsFromArgs([{ kind: 'run', id: 'run:7', run: { id: 7 } }, [undefined]]), [7]);
  // Any node under a run, and a run id with a programmatic call's options.
  assert.deepEqual(runIdsFromArgs([{ kind: 'metric', id: 'run:7/metrics/loss', runId: 8 }]), [8]);
  assert.deepEqual(runIdsFromArgs([12, { graceSeconds: 5 }]), [12]);
  assert.deepEqual(runIdsFromArgs([{ kind: 'version', version: { id: 3, runId: 4 } }, { kind: 'experiment', name: '5' }]), []);
  assert.deepEqual(runIdsFromArgs([{ runId: 4 }, { id: 6 }]), [4, 6]);
  assert.deepEqual(runIdsFromArgs([0, -1, 1.5, 'x', null, {}, { run: null }, Number.MAX_VALUE]), []);
});

test('code documents: path round trip and content with commit, params and patch', () => {
  const path = codeStatePath(12, 'my run/<x>');
  assert.equal(path, '/compare/code/12/my_run_x_.txt');
  assert.equal(runIdFromCodeStatePath(path), 12);
  assert.equal(runIdFromCodeStatePath('/other/12'), undefined);

  const { store } = tempStore();
  const a = store.createRun({ name: 'a', params: { lr: 0.1, batch: 32 }, command: ['python3', 'train.py'] });
  store.setCodeState(a.id, { commit: 'abc123', branch: 'main', dirty: true, patch: 'diff --git a/x b/x\n+1\n', patchTruncated: false });
  const text = codeStateDocument(store, a.id);
  assert.match(text, /^# Run \d+: a \(experiment Default, queued\)\n\ncommit: abc123\nbranch: main\nuncommitted changes: yes\n/);
  assert.match(text, /## Params\n\nbatch = 32\nlr = 0.1\n/);
  assert.match(text, /## Command\n\npython3 train.py\n/);
  assert.match(text, /## Uncommitted patch \(git diff against the commit\)\n\ndiff --git a\/x b\/x\n\+1\n$/);
  const b = store.createRun({ name: 'b' });
  assert.match(codeStateDocument(store, b.id), /No code snapshot was recorded/);
  assert.match(codeStateDocument(store, 999), /no longer exists/);
});
