import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { parseProfiles } from '../../src/core/launch/profiles.ts';
import type { Store } from '../../src/core/store/store.ts';
import { RunCapture } from '../../src/core/tracking/capture.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir, tempStore } from './helpers.ts';
import { PY } from './launchHelpers.ts';

/** Runs a Python snippet with its output piped into a RunCapture of a fresh run. */
async function capturePython(store: Store, script: string) {
  const runDir = join(tempDir(), 'run');
  const run = store.createRun({ runDir });
  const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
  const child = spawn(PY, ['-c', script], { cwd: runDir, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  child.stdout.on('data', (chunk: Buffer) => capture.stdout(chunk));
  child.stderr.on('data', (chunk: Buffer) => capture.stderr(chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await capture.close();
  assert.equal(exitCode, 0);
  return run.id;
}

const values = (store: Store, runId: number, key: string) => store.series(runId, key).map((p) => [p.step, p.value]);

describe('progress bars in a real process', () => {
  it('reads a bar redrawn with \\r for a whole epoch once, even when its redraws far exceed the line limit', async () => {
    const { store } = tempStore();
    // 8,000 tqdm-style redraws (~700 KB without a newline), as a long epoch prints them.
    const script = String.raw`
import sys
for i in range(1, 8001):
    sys.stdout.write("\rEpoch 0: %3d%%|%-10s| %d/8000 [00:10<00:00, 800.00it/s, v_num=0, train_loss=%.4f]" % (i * 100 // 8000, "#" * (i * 10 // 8000), i, 1.0 / i))
sys.stdout.write("\n")
print("done")
`;
    const runId = await capturePython(store, script);
    assert.deepEqual(values(store, runId, 'train_loss'), [[0, 0.0001]]);
    assert.equal(store.run(runId)!.malformedLines, 0, 'the redraws are not one over-long line');
    assert.deepEqual(store.captureReaders.counts(runId), { progress: 1 });
  });

  it('reads the last drawing of an unfinished bar when the process ends, and splits `\\r` and `\\r\\n` fed a byte at a time', async () => {
    const { store } = tempStore();
    const runDir = join(tempDir(), 'run');
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    const output = 'a=1\r\nb=2\r\n\r 10%|#         | 1/10 [00:00<00:01, 9.00it/s, loss=0.9]\r 20%|##        | 2/10 [00:00<00:01, 9.00it/s, loss=0.8]';
    for (const byte of Buffer.from(output)) capture.stdout(Buffer.from([byte]));
    await capture.close();
    assert.deepEqual(values(store, run.id, 'a'), [[0, 1]]);
    assert.deepEqual(values(store, run.id, 'b'), [[0, 2]]);
    assert.deepEqual(values(store, run.id, 'loss'), [[0, 0.8]]);
  });
});

describe('scikit-learn verbose output, printed by scikit-learn itself', () => {
  it('reads MLP iterations, SGD epochs and the gradient boosting table', async () => {
    const { store } = tempStore();
    const script = `
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.neural_network import MLPClassifier
X, y = make_classification(n_samples=200, random_state=0)
MLPClassifier(max_iter=3, verbose=True, random_state=0).fit(X, y)
SGDClassifier(max_iter=2, tol=None, verbose=1, random_state=0).fit(X, y)
GradientBoostingClassifier(n_estimators=3, verbose=1, random_state=0).fit(X, y)
`;
    const runId = await capturePython(store, script);
    assert.deepEqual(
      store.series(runId, 'loss').map((p) => p.step),
      [1, 2, 3],
      'MLP: Iteration N, loss = …',
    );
    assert.equal(store.series(runId, 'avg_loss').length, 2, 'SGD: Norm: …, Avg. loss: …');
    assert.equal(store.series(runId, 'nnzs').length, 2);
    assert.deepEqual(
      store.series(runId, 'train_loss').map((p) => p.step),
      [1, 2, 3],
      'gradient boosting: Iter / Train Loss / Remaining Time',
    );
    assert.deepEqual(Object.keys(store.summaries(runId)).sort(), ['avg_loss', 'bias', 'loss', 'nnzs', 'norm', 't', 'train_loss']);
    assert.deepEqual(store.captureReaders.counts(runId), { pairs: 5, table: 3 });
  });
});

describe('launch profiles: readers', () => {
  it('reads "readers" switches and refuses unknown readers and non-boolean values', () => {
    const profiles = parseProfiles(JSON.stringify({ profiles: { train: { command: ['x'], readers: { pairs: false, json: true } } } }));
    assert.deepEqual(profiles.get('train')!.readers, { pairs: false, json: true });
    assert.equal(parseProfiles(JSON.stringify({ profiles: { train: { command: ['x'] } } })).get('train')!.readers, undefined);
    for (const [readers, problem] of [
      [{ keras: false }, /profile "train": readers\.keras is not a reader \(readers: json, progress, pairs, table\)/],
      [{ pairs: 'no' }, /profile "train": readers\.pairs must be true or false/],
      [['pairs'], /profile "train": readers must be an object like \{ "pairs": false \}/],
    ] as const) {
      assert.throws(() => parseProfiles(JSON.stringify({ profiles: { train: { command: ['x'], readers } } })), (err: Error) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, problem);
        return true;
      });
    }
  });

  it('runboard show reports the lines each reader read, and a profile switching a reader off reads none with it', () => {
    const ws = tempDir();
    writeFileSync(
      join(ws, 'train.py'),
      String.raw`
import sys
print('{"loss": 0.5, "step": 3}')
print("Epoch 1: train_loss=0.35, val_acc=0.91")
sys.stdout.write("\rEpoch 0:  50%|#####     | 1/2 [00:00<00:00, 5.00it/s, bar_loss=0.9]")
sys.stdout.write("\rEpoch 0: 100%|##########| 2/2 [00:00<00:00, 5.00it/s, bar_loss=0.8]\n")
`,
    );
    mkdirSync(join(ws, '.runboard'));
    const command = ['${interpreter}', 'train.py'];
    writeFileSync(
      join(ws, '.runboard', 'profiles.json'),
      JSON.stringify({ profiles: { all: { command, interpreter: PY }, nopairs: { command, interpreter: PY, readers: { pairs: false } } } }),
    );
    for (const profile of ['all', 'nopairs']) assert.equal(cli(['run', '--profile', profile], { cwd: ws }).code, 0);

    const all = json(cli(['show', '1', '--json'], { cwd: ws }));
    assert.deepEqual(all.metricLinesByReader, { json: 1, pairs: 1, progress: 1 });
    assert.deepEqual(Object.keys(all.metrics).sort(), ['bar_loss', 'loss', 'train_loss', 'val_acc']);
    assert.equal(all.metrics.bar_loss.last, 0.8);
    assert.match(cli(['show', '1'], { cwd: ws }).stdout, /read: +3 metric line\(s\) from the output \(json 1, pairs 1, progress 1\)/);

    const nopairs = json(cli(['show', '2', '--json'], { cwd: ws }));
    assert.deepEqual(nopairs.metricLinesByReader, { json: 1, progress: 1 });
    assert.deepEqual(Object.keys(nopairs.metrics).sort(), ['bar_loss', 'loss']);
  });
});
