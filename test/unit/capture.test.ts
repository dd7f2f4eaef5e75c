import assert from 'node:assert/strict';
import { storageProblem } from '../../src/core/errors.ts';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chownSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Store } from '../../src/core/store/store.ts';
import { RunCapture } from '../../src/core/tracking/capture.ts';
import { tempDir, tempStore } from './helpers.ts';

const PYTHON = 'python3';
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
const NOBODY = 65534;

/** Runs a Python snippet with its output piped into a RunCapture of a fresh run. */
async function capturePython(store: Store, script: string, options: { regex?: string; buffered?: boolean } = {}) {
  const runDir = join(tempDir(), 'run');
  const run = store.createRun({ runDir });
  const capture = new RunCapture(store, { runId: run.id, runDir, regex: options.regex });
  const env: NodeJS.ProcessEnv = { ...process.env, RUNBOARD_RUN_DIR: runDir };
  if (options.buffered) delete env.PYTHONUNBUFFERED;
  const child = spawn(PYTHON, ['-c', script], { cwd: runDir, env });
  child.stdout.on('data', (chunk: Buffer) => capture.stdout(chunk));
  child.stderr.on('data', (chunk: Buffer) => capture.stderr(chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await capture.close();
  return { runId: run.id, runDir, exitCode };
}

const values = (store: Store, runId: number, key: string) => store.series(runId, key).map((p) => [p.step, p.value]);

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('RunCapture: console', () => {
  it('captures every format from a real process, keeps NaN/Inf, counts malformed lines and logs raw output', async () => {
    const { store } = tempStore();
    const script = String.raw`
import json, sys
print(json.dumps({"loss": 0.5, "step": 10}))
print(json.dumps({"loss": float("nan"), "acc": float("inf"), "step": 11}))
print({'hf_loss': 0.25, 'learning_rate': 5e-05, 'epoch': 0.5})
print("step=3 kv=1.5 lr=1e-3")
print("100/100 [==============================] - 1s 2ms/step - k_loss: 0.2345 - k_acc: 0.9")
print("Loading data from /tmp ...")
print('{"truncated": 1')
print("kv=0.1.2")
sys.stderr.write("stderr_metric=-inf\nTraceback (most recent call last):\n")
sys.stdout.write("tail=7")
`;
    const { runId, runDir, exitCode } = await capturePython(store, script);
    assert.equal(exitCode, 0);
    assert.deepEqual(values(store, runId, 'loss'), [[10, 0.5], [11, NaN]]);
    assert.deepEqual(values(store, runId, 'acc'), [[11, Infinity]]);
    assert.deepEqual(values(store, runId, 'hf_loss'), [[0, 0.25]]);
    assert.deepEqual(values(store, runId, 'epoch'), [[0, 0.5]]);
    assert.deepEqual(values(store, runId, 'learning_rate'), [[0, 5e-5]]);
    assert.deepEqual(values(store, runId, 'kv'), [[3, 1.5]]);
    assert.deepEqual(values(store, runId, 'lr'), [[3, 1e-3]]);
    assert.deepEqual(values(store, runId, 'k_loss'), [[0, 0.2345]]);
    assert.deepEqual(values(store, runId, 'stderr_metric'), [[0, -Infinity]]);
    assert.deepEqual(values(store, runId, 'tail'), [[0, 7]], 'the last line without a newline is read at close');
    assert.equal(store.series(runId, 'step').length, 0, 'step keys are not metrics');
    assert.equal(store.run(runId)!.malformedLines, 2);
    const stdout = readFileSync(join(runDir, 'stdout.log'), 'utf8');
    assert.ok(stdout.startsWith('{"loss": 0.5, "step": 10}\n'));
    assert.ok(stdout.endsWith('kv=0.1.2\ntail=7'));
    assert.equal(readFileSync(join(runDir, 'stderr.log'), 'utf8'), 'stderr_metric=-inf\nTraceback (most recent call last):\n');
    assert.deepEqual(store.artifacts(runId), [], 'logs are not artifacts');
  });

  it('applies a user regex before the built-in formats', async () => {
    const { store } = tempStore();
    const script = 'print("it 5 | loss 0.75"); print("it 6 | loss bad"); print("x=2")';
    const { runId } = await capturePython(store, script, { regex: String.raw`it (?<step>\d+) \| loss (?<loss>\S+)` });
    assert.deepEqual(values(store, runId, 'loss'), [[5, 0.75]]);
    assert.deepEqual(values(store, runId, 'x'), [[0, 2]]);
    assert.equal(store.run(runId)!.malformedLines, 1);
  });

  it('survives a 1 MB line, invalid UTF-8 and binary garbage without stalling', async () => {
    const { store } = tempStore();
    const script = String.raw`
import sys
out = sys.stdout.buffer
out.write(b'{"before": 1}\n')
out.write(b"{" + b"x" * 1048576 + b"}\n")
out.write(bytes(b for b in range(256) if b != 10) * 8192 + b"\n")
out.write(b'{"bad\xff\xfekey": 2, "after": 3}\n')
out.write(b"\xc3")
out.flush()
out.write(b"\xa9t\xc3\xa9=4\n")
out.write(b"after_kv=5\n")
`;
    const started = Date.now();
    const { runId, runDir } = await capturePython(store, script);
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(values(store, runId, 'before'), [[0, 1]]);
    assert.deepEqual(values(store, runId, 'after'), [[0, 3]]);
    assert.deepEqual(values(store, runId, 'bad\ufffd\ufffdkey'), [[0, 2]]);
    assert.deepEqual(values(store, runId, 'after_kv'), [[0, 5]]);
    // The binary line holds `\r` bytes: its 8,192 redraws are short lines, of which the last is shown (text).
    assert.equal(store.run(runId)!.malformedLines, 1, 'the over-long line');
    // `été=4` is not a key=value metric (non-ASCII key) but was decoded across the chunk split.
    assert.ok(readFileSync(join(runDir, 'stdout.log')).length > 3_100_000, 'the log keeps every byte');
  });

  it('splits lines correctly when fed one byte at a time', async () => {
    const { store } = tempStore();
    const runDir = join(tempDir(), 'run');
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    for (const byte of Buffer.from('{"a": 1}\r\nb=2\n{"\u00e9": 3}\n')) capture.stdout(Buffer.from([byte]));
    await capture.close();
    assert.deepEqual(values(store, run.id, 'a'), [[0, 1]]);
    assert.deepEqual(values(store, run.id, 'b'), [[0, 2]]);
    assert.deepEqual(values(store, run.id, '\u00e9'), [[0, 3]]);
    capture.stdout(Buffer.from('late=1\n'));
    assert.deepEqual(values(store, run.id, 'late'), [], 'output after close is ignored');
  });

  it('loses and duplicates nothing with 8 concurrent captures of 100,000 points each', async () => {
    const { store } = tempStore();
    const script = String.raw`
import sys
w = sys.stdout.write
for i in range(100000):
    w('{"step": %d, "v": %d}\n' % (i, i * 3))
`;
    // Buffered output keeps the producers fast; the splitting across chunk boundaries is the same.
    const runs = await Promise.all(Array.from({ length: 8 }, () => capturePython(store, script, { buffered: true })));
    for (const { runId } of runs) {
      const series = store.series(runId, 'v');
      assert.equal(series.length, 100_000);
      assert.ok(series.every((p, i) => p.step === i && p.value === i * 3));
      assert.equal(store.run(runId)!.malformedLines, 0);
    }
  });
});

describe('RunCapture: run folder', () => {
  it("reads a metrics.jsonl of plain objects written by the user's own code", async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    const run = store.createRun({ runDir });
    writeFileSync(join(runDir, 'metrics.jsonl'), '{"loss": 0.5, "step": 1}\n{"loss": 0.25, "acc": 0.9, "step": 2}\n{"broken": \n');
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    await capture.close();
    assert.deepEqual(store.series(run.id, 'loss').map((p) => [p.step, p.value]), [[1, 0.5], [2, 0.25]]);
    assert.deepEqual(store.series(run.id, 'acc').map((p) => [p.step, p.value]), [[2, 0.9]]);
    assert.equal(store.run(run.id)!.malformedLines, 1);
  });

  it('tails metrics.jsonl live, across partial lines and truncation', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir });
    const file = join(runDir, 'metrics.jsonl');
    writeFileSync(file, '{"step": 0, "wall": 1000, "metrics": {"m": 1}}\n{"step": 1, "wall": 1001, "metr');
    await waitFor('first point', () => store.series(run.id, 'm').length === 1);
    appendFileSync(file, 'ics": {"m": 2}}\n');
    await waitFor('completed line', () => store.series(run.id, 'm').length === 2);
    assert.deepEqual(store.series(run.id, 'm')[1], { step: 1, wall: 1001, value: 2 });
    truncateSync(file, 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    appendFileSync(file, '{"step": 5, "wall": 1005, "metrics": {"m": 5}}\n');
    await waitFor('point after truncation', () => store.series(run.id, 'm').length === 3);
    // A rewrite that ends up longer than what was read is noticed by its changed first bytes.
    writeFileSync(file, `{"step": 7, "wall": 1007, "metrics": {"m": 7, "pad": ${'1'.repeat(100)}}}\n`);
    await capture.close();
    assert.deepEqual(values(store, run.id, 'm'), [[0, 1], [1, 2], [5, 5], [7, 7]]);
  });

  it('reads Keras and Lightning CSV logs and treats other CSVs as data artifacts', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir });
    writeFileSync(join(runDir, 'history.csv'), 'epoch,accuracy,loss\n0,0.5,1.25\n1,0.75,nan\n');
    const lightning = join(runDir, 'lightning_logs', 'version_0');
    mkdirSync(lightning, { recursive: true });
    writeFileSync(join(lightning, 'metrics.csv'), 'epoch,step,train_loss,val_loss\n0,49,0.9,\n0,49,,0.8\n1,99,0.7,\n');
    writeFileSync(join(runDir, 'predictions.csv'), 'id,label\n1,cat\n');
    await waitFor('keras rows', () => store.series(run.id, 'loss').length === 2);
    appendFileSync(join(runDir, 'history.csv'), '2,0.875,0.5\n');
    await waitFor('appended row', () => store.series(run.id, 'loss').length === 3);
    await capture.close();
    assert.deepEqual(values(store, run.id, 'accuracy'), [[0, 0.5], [1, 0.75], [2, 0.875]]);
    assert.deepEqual(values(store, run.id, 'loss'), [[0, 1.25], [1, NaN], [2, 0.5]]);
    assert.deepEqual(values(store, run.id, 'train_loss'), [[49, 0.9], [99, 0.7]]);
    assert.deepEqual(values(store, run.id, 'val_loss'), [[49, 0.8]]);
    assert.deepEqual(values(store, run.id, 'epoch'), [[0, 0], [1, 1], [2, 2], [49, 0], [99, 1]]);
    assert.deepEqual(
      store.artifacts(run.id).map((a) => [a.path, a.kind]),
      [['predictions.csv', 'data']],
    );
  });

  it('reads trainer_state.json log_history with its global steps; console keys win over it', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir });
    capture.stdout(Buffer.from("{'loss': 2.5, 'epoch': 0.5}\n"));
    const checkpoint = join(runDir, 'checkpoint-20');
    mkdirSync(checkpoint);
    const history = [
      { loss: 2.5, grad_norm: 1.5, epoch: 0.5, step: 10 },
      { eval_loss: 2.0, eval_accuracy: NaN, epoch: 1.0, step: 20 },
    ];
    writeFileSync(join(checkpoint, 'trainer_state.json'), JSON.stringify({ global_step: 20, log_history: history }).replace('null', 'NaN'));
    writeFileSync(join(checkpoint, 'model.safetensors'), 'weights');
    await capture.close();
    assert.deepEqual(values(store, run.id, 'loss'), [[0, 2.5]], 'the console owns loss');
    assert.deepEqual(values(store, run.id, 'grad_norm'), [[10, 1.5]]);
    assert.deepEqual(values(store, run.id, 'eval_loss'), [[20, 2]]);
    assert.deepEqual(values(store, run.id, 'eval_accuracy'), [[20, NaN]]);
    assert.deepEqual(store.artifacts(run.id).map((a) => [a.path, a.kind, a.sha256]), [['checkpoint-20/model.safetensors', 'model', sha256('weights')]]);
  });

  it('records artifacts with size, sha256 and kind, once stable, and again when changed', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir });
    const files: Record<string, string> = {
      'model.pkl': 'pickle',
      'plots/loss.png': 'png-bytes',
      'data/x.npy': 'npy',
      'model.onnx': 'onnx',
      'notes.txt': 'hello',
      'config.json': '{}',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(runDir, path, '..'), { recursive: true });
      writeFileSync(join(runDir, path), content);
    }
    writeFileSync(join(runDir, '.hidden'), 'x');
    await waitFor('stable artifacts', () => store.artifacts(run.id).length === 6);
    writeFileSync(join(runDir, 'notes.txt'), 'hello again');
    await waitFor('changed artifact', () => store.artifacts(run.id).find((a) => a.path === 'notes.txt')!.size === 11);
    await capture.close();
    files['notes.txt'] = 'hello again';
    const kinds: Record<string, string> = {
      'config.json': 'data',
      'data/x.npy': 'data',
      'model.onnx': 'model',
      'model.pkl': 'model',
      'notes.txt': 'other',
      'plots/loss.png': 'plot',
    };
    assert.deepEqual(
      store.artifacts(run.id).map((a) => ({ path: a.path, size: a.size, sha256: a.sha256, kind: a.kind })),
      Object.keys(kinds).map((path) => ({ path, size: files[path]!.length, sha256: sha256(files[path]!), kind: kinds[path] })),
    );
  });

  it('re-ingesting a run folder after a crash adds nothing twice', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    const run = store.createRun({ runDir });
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ step: i, wall: 1000 + i, metrics: { a: i, b: -i } }));
    writeFileSync(join(runDir, 'metrics.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(runDir, 'history.csv'), 'epoch,loss\n0,1\n1,0.5\n');
    await new RunCapture(store, { runId: run.id, runDir, watch: false }).close();
    const first = store.summaries(run.id);
    assert.equal(first.a!.count, 50);
    assert.equal(first.loss!.count, 2);
    // A new capture (the extension restarted) reads everything again, plus what came since.
    appendFileSync(join(runDir, 'metrics.jsonl'), JSON.stringify({ step: 50, wall: 1050, metrics: { a: 50 } }) + '\n');
    await new RunCapture(store, { runId: run.id, runDir }).close();
    const second = store.summaries(run.id);
    assert.equal(second.a!.count, 51);
    assert.equal(second.b!.count, 50);
    assert.equal(second.loss!.count, 2);
    assert.equal(store.series(run.id, 'a').length, 51);
  });
});

describe('RunCapture: a full disk', () => {
  /** Lines of JSON metrics as a training process prints them. */
  const lines = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, i) => `{"step": ${from + i}, "loss": ${1 / (from + i + 1)}}\n`).join(''));

  it('keeps points while the database cannot grow and stores them all once it can (SQLITE_FULL)', async () => {
    const { store } = tempStore();
    const runDir = join(tempDir(), 'run');
    const run = store.createRun({ runDir });
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages + 2}`); // SQLite's own limit: writes fail with SQLITE_FULL
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    capture.stdout(lines(0, 30_000));
    await new Promise((resolve) => setTimeout(resolve, 400)); // flushes are attempted and refused
    assert.equal(store.summaries(run.id).loss, undefined, 'nothing could be written yet');
    capture.stdout(lines(30_000, 40_000));
    store.db.pragma('max_page_count = 1073741823'); // space again
    await capture.close();
    const loss = store.summaries(run.id).loss!;
    assert.equal(loss.count, 40_000);
    assert.equal(loss.lastStep, 39_999);
    assert.deepEqual(store.series(run.id, 'loss', 0, 2).map((p) => p.step), [0, 1, 2]);
  });

  it('fails close() with a storage error naming how many points are unsaved when space never comes', async () => {
    const { store } = tempStore();
    const runDir = join(tempDir(), 'run');
    const run = store.createRun({ runDir });
    store.db.pragma(`max_page_count = ${(store.db.pragma('page_count', { simple: true }) as number) + 2}`);
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    capture.stdout(lines(0, 20_000));
    await assert.rejects(capture.close(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SQLITE_FULL');
      assert.match(err.message, /^20000 metric points could not be stored/);
      assert.match(storageProblem(err)!, /disk holding the Runboard database is full/);
      return true;
    });
    store.db.pragma('max_page_count = 1073741823');
  });
});

describe('RunCapture: files it cannot read or write', () => {
  it("puts an unreadable metrics.jsonl on the run's error, naming the file and the problem, and keeps the rest", () => {
    const workspace = tempDir();
    // Root reads any file whatever its mode, so then the run goes as "nobody", for whom mode 000 denies.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(workspace, NOBODY, NOBODY);
    const script = String.raw`
import os
path = os.path.join(os.environ["RUNBOARD_RUN_DIR"], "metrics.jsonl")
# Mode 000 from its creation: written through this descriptor, readable by nobody.
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o000)
os.write(fd, b'{"step": 1, "wall": 1, "metrics": {"hidden": 0.5}}\n')
os.close(fd)
print("loss=0.25")
`;
    writeFileSync(join(workspace, 'train.py'), script);
    const db = join(workspace, 'runboard.db');
    const ran = spawnSync(process.execPath, [CLI, 'run', '--db', db, '--', PYTHON, 'train.py'], {
      cwd: workspace,
      env: { ...process.env, RUNBOARD_DB: '', HOME: workspace },
      encoding: 'utf8',
      timeout: 60_000,
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    assert.equal(ran.status, 0, ran.stderr);
    const shown = JSON.parse(spawnSync(process.execPath, [CLI, 'show', '1', '--db', db, '--json'], { encoding: 'utf8' }).stdout);
    assert.equal(shown.status, 'finished');
    assert.match(shown.error, /^Recording is incomplete: metrics\.jsonl could not be read: EACCES: permission denied/);
    assert.equal(shown.metrics.loss.last, 0.25, 'what could be read is kept');
    assert.equal(shown.metrics.hidden, undefined);
  });

  it('rejects close() when a console log cannot be written, and still stores every point', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    // A folder where the log file should be: opening it for appends fails (EISDIR), even for root.
    mkdirSync(join(runDir, 'stdout.log'));
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir });
    capture.stdout(Buffer.from('loss=0.5\nloss=0.25\n'));
    await assert.rejects(capture.close(), /^UserError: stdout\.log could not be written: EISDIR/);
    assert.deepEqual(values(store, run.id, 'loss'), [[0, 0.5], [1, 0.25]]);
  });

  it('records Keras and Lightning model files (.h5, .keras, .ckpt) as models', async () => {
    const { store } = tempStore();
    const runDir = tempDir();
    for (const file of ['model.h5', 'model.keras', 'last.ckpt', 'model.PT']) writeFileSync(join(runDir, file), file);
    const run = store.createRun({ runDir });
    await new RunCapture(store, { runId: run.id, runDir, watch: false }).close();
    assert.deepEqual(
      store.artifacts(run.id).map((a) => [a.path, a.kind]),
      [['last.ckpt', 'model'], ['model.PT', 'model'], ['model.h5', 'model'], ['model.keras', 'model']],
    );
  });
});
