import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { failureText, nonFiniteNotes } from '../../src/vscode/views/experiments/runProblems.ts';
import { buildRun, tempStore } from './helpers.ts';

test("a failed run's error: the recorded one, else the last lines of its stderr (a traceback's end)", () => {
  const { store, workspace } = tempStore();
  const runDir = join(workspace, 'out');
  mkdirSync(runDir);
  writeFileSync(join(runDir, 'stderr.log'), 'warming up\nTraceback (most recent call last):\n  File "train.py", line 9, in <module>\n    main()\nValueError: lr must be positive\n\n');
  const failed = buildRun(store, { runDir });
  store.markEnded(failed.id, { status: 'failed', exitCode: 1 });
  assert.equal(failureText(store.run(failed.id)!), '  File "train.py", line 9, in <module>\n    main()\nValueError: lr must be positive');
  const stopped = buildRun(store, { runDir });
  store.markEnded(stopped.id, { status: 'killed', error: 'Stopped before it started' });
  assert.equal(failureText(store.run(stopped.id)!), 'Stopped before it started');
  const finished = buildRun(store, { runDir });
  store.markEnded(finished.id, { status: 'finished' });
  assert.equal(failureText(store.run(finished.id)!), undefined, 'a finished run has no error, whatever it printed');
  const noLog = buildRun(store, { runDir: join(workspace, 'missing') });
  store.markEnded(noLog.id, { status: 'crashed' });
  assert.equal(failureText(store.run(noLog.id)!), undefined);
});

test('every metric that went NaN or ±Infinity is named with its first such step', () => {
  const { store } = tempStore();
  const run = buildRun(store, { series: { loss: [1, 0.5, NaN, Infinity], acc: [0.1, 0.2], grad: [1, -Infinity] } });
  assert.deepEqual(nonFiniteNotes(store, run.id), ['grad went -Infinity at step 1', 'loss went NaN at step 2']);
});

test('the first non-finite point of a long series is found through the rollups', () => {
  const { store } = tempStore();
  const run = buildRun(store, { series: { loss: Array.from({ length: 50_000 }, (_, step) => (step === 31_337 ? NaN : step > 40_000 && step % 7 === 0 ? Infinity : 1)) } });
  assert.deepEqual(nonFiniteNotes(store, run.id), ['loss went NaN at step 31337']);
});
