import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { pythonDir } from '../../src/core/paths.ts';
import { Store } from '../../src/core/store/store.ts';
import { RunCapture } from '../../src/core/tracking/capture.ts';
import { IMPORTED_FROM_TAG, importRunDir } from '../../src/core/tracking/importDir.ts';
import { runEvaluations } from '../../src/core/compare/evaluation.ts';
import { tempDir, tempStore } from './helpers.ts';
import { waitFor } from './launchHelpers.ts';

interface PythonResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script with the client importable; `onStdout` sees output as it comes; its stdin closes once `stdinUntil` settles. */
function runPython(
  script: string,
  options: { cwd: string; env?: Record<string, string>; onStdout?: (chunk: Buffer) => void; onStderr?: (chunk: Buffer) => void; stdinUntil?: Promise<unknown> },
): Promise<PythonResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.RUNBOARD_RUN_DIR;
  delete env.RUNBOARD_HOME;
  Object.assign(env, { PYTHONPATH: pythonDir(), PYTHONDONTWRITEBYTECODE: '1' }, options.env);
  const child = spawn('python3', ['-c', script], { cwd: options.cwd, env });
  const endStdin = () => child.stdin.end();
  options.stdinUntil?.then(endStdin, endStdin);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), options.onStdout?.(chunk)));
  child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), options.onStderr?.(chunk)));
  return new Promise((resolve) => child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr })));
}

/** A script run inside a Runboard run: RUNBOARD_RUN_DIR set, output piped into a RunCapture. */
async function captureRun(store: Store, script: string) {
  const runDir = join(tempDir(), 'run');
  const run = store.createRun({ runDir });
  const capture = new RunCapture(store, { runId: run.id, runDir });
  const result = await runPython(script, {
    cwd: tempDir(),
    env: { RUNBOARD_RUN_DIR: runDir },
    onStdout: (chunk) => capture.stdout(chunk),
    onStderr: (chunk) => capture.stderr(chunk),
  });
  await capture.close();
  assert.equal(result.exitCode, 0, result.stderr);
  return { runId: run.id, runDir, ...result };
}

const values = (store: Store, runId: number, key: string) => store.series(runId, key).map((p) => [p.step, p.value]);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const TRAINING_SCRIPT = String.raw`
import math, os, runboard
runboard.log_params({"lr": 0.01, "optimizer": "adam", "layers": [64, 32]})
runboard.set_tags({"team": "vision"})
for i in range(5):
    runboard.log(loss=1.0 / (i + 1))
runboard.log(loss=float("nan"), acc=math.inf)
runboard.log(step=100, acc=0.5, neg=-math.inf)
runboard.log(acc=0.75)
runboard.log(step=7.0, late=1)
with open("weights.bin", "wb") as f:
    f.write(b"\x00\x01weights")
with open("chart.png", "wb") as f:
    f.write(b"png")
runboard.log_artifact("weights.bin", kind="model")
runboard.log_artifact("chart.png")
print("loss=123")
`;

describe('Python client inside a run', () => {
  it('logs metrics with explicit steps, params, tags and artifacts that capture ingests exactly', async () => {
    const { store } = tempStore();
    const { runId, runDir } = await captureRun(store, TRAINING_SCRIPT);
    assert.deepEqual(values(store, runId, 'loss'), [[0, 1], [1, 0.5], [2, 1 / 3], [3, 0.25], [4, 0.2], [5, NaN]]);
    assert.deepEqual(values(store, runId, 'acc'), [[5, Infinity], [100, 0.5], [101, 0.75]]);
    assert.deepEqual(values(store, runId, 'neg'), [[100, -Infinity]]);
    assert.deepEqual(values(store, runId, 'late'), [[7, 1]]);
    assert.deepEqual(store.params(runId), { layers: '[64,32]', lr: '0.01', optimizer: 'adam' });
    assert.deepEqual(store.tags(runId), { team: 'vision' });
    assert.deepEqual(
      store.artifacts(runId).map((a) => [a.path, a.kind, a.size, a.sha256]),
      [
        ['artifacts/chart.png', 'plot', 3, sha256('png')],
        ['artifacts/weights.bin', 'model', 9, sha256(Buffer.from('\x00\x01weights', 'latin1'))],
      ],
    );
    assert.equal(store.run(runId)!.malformedLines, 0);
    // Every line carries its step, so the file alone reproduces the series.
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 9);
    assert.match(lines[0]!, /^\{"step": 0, "wall": \d{13}, "metrics": \{"loss": 1\.0\}\}$/);
    assert.match(lines[5]!, /"metrics": \{"loss": NaN, "acc": Infinity\}/);
    assert.deepEqual(readFileSync(join(runDir, 'artifacts.jsonl'), 'utf8'), '{"path": "artifacts/weights.bin", "kind": "model"}\n');
  });

  it('owns its keys: console lines for a key the client logs are ignored', async () => {
    const { store } = tempStore();
    const { runId } = await captureRun(store, 'import runboard\nfor i in range(3):\n    runboard.log(step=i * 10, loss=float(i))\n    print("loss=%d" % (100 + i), flush=True)\nprint("other=1")');
    assert.deepEqual(values(store, runId, 'loss'), [[0, 0], [10, 1], [20, 2]]);
    assert.deepEqual(values(store, runId, 'other'), [[0, 1]]);
  });

  it('writes buffered metrics from its background thread while the process still runs', async () => {
    const runDir = join(tempDir(), 'run');
    mkdirSync(runDir);
    const metrics = join(runDir, 'metrics.jsonl');
    let logged!: () => void;
    const loggedOut = new Promise<void>((resolve) => (logged = resolve));
    // Both points, whole lines, while the script still waits for its stdin to close.
    const written = loggedOut.then(() => waitFor(() => existsSync(metrics) && /^[^\n]+\n[^\n]+\n$/.test(readFileSync(metrics, 'utf8')), 30_000, 'both points in metrics.jsonl'));
    const script = 'import runboard, sys\nrunboard.log(a=1.0)\nrunboard.log(a=2.0)\nprint("logged", flush=True)\nsys.stdin.read()';
    const result = await runPython(script, {
      cwd: runDir,
      env: { RUNBOARD_RUN_DIR: runDir },
      onStdout: (chunk) => chunk.toString().includes('logged') && logged(),
      stdinUntil: written,
    });
    assert.equal(result.exitCode, 0, result.stderr);
    await written;
  });

  it('rejects a fractional step and converts scalars through __float__ (numpy, torch)', async () => {
    const runDir = join(tempDir(), 'run');
    const script = String.raw`
import runboard
try:
    runboard.log(step=2.5, a=1)
except TypeError as e:
    print("refused:", e)
runboard.log(step=3.0, a=1)
class Scalar:
    def __float__(self):
        return 0.125
runboard.log(a=Scalar(), b="text")
`;
    const result = await runPython(script, { cwd: tempDir(), env: { RUNBOARD_RUN_DIR: runDir } });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /refused: runboard.log: step must be an integer/);
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => [l.step, l.metrics.a]), [[3, 1], [4, 0.125]]);
  });

  it('loses nothing when its formatting helper cannot start or dies, or when a worker forks', async () => {
    const readSteps = (runDir: string) => {
      const steps = new Map<string, number[]>();
      for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n')) {
        const record = JSON.parse(line);
        for (const key of Object.keys(record.metrics)) steps.set(key, [...(steps.get(key) ?? []), record.step]);
      }
      // A batch re-written after a helper failure may repeat lines; the store ignores repeats.
      return new Map([...steps].map(([key, list]) => [key, [...new Set(list)].sort((a, b) => a - b)]));
    };
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);

    const noHelper = join(tempDir(), 'run');
    const embedded = 'import sys\nsys.executable = "/opt/app/embedded"\nimport runboard\nfor i in range(3000):\n    runboard.log(a=float(i))\n    if i % 1000 == 999:\n        runboard.flush()';
    assert.equal((await runPython(embedded, { cwd: tempDir(), env: { RUNBOARD_RUN_DIR: noHelper } })).exitCode, 0);
    assert.deepEqual(readSteps(noHelper).get('a'), range(3000));

    const killed = join(tempDir(), 'run');
    const kill = String.raw`
import runboard
for i in range(2000):
    runboard.log(a=float(i))
runboard.flush()
runboard._run.helper.kill()
runboard._run.helper.wait()
for i in range(2000, 4000):
    runboard.log(a=float(i))
`;
    const result = await runPython(kill, { cwd: tempDir(), env: { RUNBOARD_RUN_DIR: killed } });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(readSteps(killed).get('a'), range(4000));

    const forked = join(tempDir(), 'run');
    const fork = String.raw`
import os, runboard
runboard.log(parent=0.0)
for worker in range(2):
    if os.fork() == 0:
        for i in range(1500):
            runboard.log(**{"worker%d" % worker: float(i)})
        runboard.flush()
        os._exit(0)
for i in range(1, 1500):
    runboard.log(parent=float(i))
os.wait()
os.wait()
`;
    const forkResult = await runPython(fork, { cwd: tempDir(), env: { RUNBOARD_RUN_DIR: forked } });
    assert.equal(forkResult.exitCode, 0, forkResult.stderr);
    const steps = readSteps(forked);
    for (const key of ['parent', 'worker0', 'worker1']) assert.deepEqual(steps.get(key), range(1500), key);
  });

  it('re-ingests its own folder without duplicating a point', async () => {
    const { store } = tempStore();
    const { runId, runDir } = await captureRun(store, TRAINING_SCRIPT);
    const before = store.summaries(runId);
    await new RunCapture(store, { runId, runDir, watch: false }).close();
    assert.deepEqual(store.summaries(runId), before);
    assert.equal(store.series(runId, 'loss').length, 6);
  });
});

describe('Python client outside a run', () => {
  it('creates a local run folder with run.json, which importRunDir loads once', async () => {
    const { store } = tempStore();
    const cwd = tempDir();
    const result = await runPython(TRAINING_SCRIPT, { cwd });
    assert.equal(result.exitCode, 0, result.stderr);
    const runs = readdirSync(join(cwd, '.runboard', 'runs'));
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /^local-\d{8}-\d{6}-\d+$/);
    const dir = join(cwd, '.runboard', 'runs', runs[0]!);
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    assert.equal(info.status, 'finished');
    assert.equal(info.cwd, cwd);
    assert.deepEqual(info.command.slice(1), ['-c']);
    assert.ok(info.ended >= info.started);

    const run = await importRunDir(store, dir, { experiment: 'imported' });
    assert.equal(run.status, 'finished');
    assert.equal(run.experiment, 'imported');
    assert.equal(run.name, runs[0]);
    assert.equal(run.startedAt, info.started);
    assert.equal(run.endedAt, info.ended);
    assert.deepEqual(values(store, run.id, 'loss'), [[0, 1], [1, 0.5], [2, 1 / 3], [3, 0.25], [4, 0.2], [5, NaN]]);
    assert.deepEqual(values(store, run.id, 'acc'), [[5, Infinity], [100, 0.5], [101, 0.75]]);
    assert.deepEqual(store.params(run.id), { layers: '[64,32]', lr: '0.01', optimizer: 'adam' });
    assert.equal(store.tags(run.id).team, 'vision');
    assert.equal(store.tags(run.id)[IMPORTED_FROM_TAG], dir);
    assert.deepEqual(store.artifacts(run.id).map((a) => [a.path, a.kind]), [['artifacts/chart.png', 'plot'], ['artifacts/weights.bin', 'model']]);
    assert.ok(!existsSync(join(dir, 'stdout.log')), 'importing writes nothing into the folder');

    await assert.rejects(importRunDir(store, dir), (err: Error) => err instanceof UserError && /already imported/.test(err.message));
    assert.equal(store.runs().length, 1);
  });

  it('honours RUNBOARD_HOME, records a failure and an interrupt, and a killed process imports as crashed', async () => {
    const { store } = tempStore();
    const home = tempDir();
    const failed = await runPython('import runboard\nrunboard.log(a=1.0)\nraise SystemError("boom")', { cwd: tempDir(), env: { RUNBOARD_HOME: home } });
    assert.notEqual(failed.exitCode, 0);
    const interrupted = await runPython('import runboard\nrunboard.log(a=1.0)\nraise KeyboardInterrupt', { cwd: tempDir(), env: { RUNBOARD_HOME: home } });
    assert.notEqual(interrupted.exitCode, 0);
    const killed = await runPython('import os, runboard, signal\nrunboard.log(a=1.0)\nos.kill(os.getpid(), signal.SIGKILL)', { cwd: tempDir(), env: { RUNBOARD_HOME: home } });
    assert.equal(killed.exitCode, null);
    const dirs = readdirSync(join(home, 'runs')).map((name) => join(home, 'runs', name));
    assert.equal(dirs.length, 3);
    const statuses = [];
    for (const dir of dirs) {
      const run = await importRunDir(store, dir);
      statuses.push(run.status);
      // The first record is written at once, so even the killed run kept its point.
      assert.deepEqual(values(store, run.id, 'a'), [[0, 1]]);
    }
    assert.deepEqual(statuses.sort(), ['crashed', 'failed', 'killed']);
  });

  it('refuses a folder without run.json and leaves no run behind', async () => {
    const { store } = tempStore();
    const dir = tempDir();
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    await assert.rejects(importRunDir(store, dir), (err: Error) => err instanceof UserError && /no run\.json/.test(err.message));
    await assert.rejects(importRunDir(store, join(dir, 'missing')), UserError);
    assert.equal(store.runs().length, 0);
  });
});

describe('log_evaluation', () => {
  it('writes a confusion matrix and per-class scores that the Compare panel reads as an artifact', async () => {
    const { store } = tempStore();
    const { runId } = await captureRun(
      store,
      String.raw`
import runboard
runboard.log_evaluation(["cat", "cat", "dog", "dog", "dog", "bird"], ["cat", "dog", "dog", "dog", "cat", "bird"], labels=["cat", "dog", "bird"])
runboard.log_evaluation([0, 1, 1], [0, 1, 0], name="test")
`,
    );
    const run = store.run(runId)!;
    const { files } = await runEvaluations(store, run);
    assert.deepEqual(files.map((f) => [f.path, f.error]).sort(), [['artifacts/evaluation-test.json', null], ['artifacts/evaluation.json', null]]);
    const main = files.find((f) => f.path === 'artifacts/evaluation.json')!.evaluation!;
    assert.deepEqual(main.labels, ['cat', 'dog', 'bird']);
    assert.deepEqual(main.confusionMatrix, [[1, 1, 0], [1, 2, 0], [0, 0, 1]]);
    const dog = main.perClass.dog!;
    assert.deepEqual([dog.precision, dog.recall, dog.support], [2 / 3, 2 / 3, 3]);
    assert.ok(Math.abs(main.accuracy! - 4 / 6) < 1e-12);
    assert.ok(store.artifacts(runId).some((a) => a.path === 'artifacts/evaluation.json'), 'recorded as an artifact');
  });

  it('refuses mismatched lengths and path-like names', async () => {
    const result = await runPython(
      String.raw`
import runboard
for args, kwargs in [(([1, 2], [1]), {}), (([1], [1]), {"name": "../x"})]:
    try:
        runboard.log_evaluation(*args, **kwargs)
        print("accepted")
    except ValueError as e:
        print("refused:", e)
`,
      { cwd: tempDir(), env: { RUNBOARD_RUN_DIR: tempDir() } },
    );
    assert.deepEqual(result.stdout.trim().split('\n').map((l) => l.split(':')[0]), ['refused', 'refused'], result.stderr);
  });
});

describe('importing a run recorded earlier', () => {
  it('keeps the recorded metric times, as another process reading the database sees them', async () => {
    const { store, dbPath } = tempStore();
    const dir = join(tempDir(), 'earlier');
    mkdirSync(dir);
    const dayAgo = Date.now() - 86_400_000;
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'yesterday', command: ['train.py'], started: dayAgo, ended: dayAgo + 5000, status: 'finished' }));
    writeFileSync(join(dir, 'metrics.jsonl'), `{"step": 0, "wall": ${dayAgo + 1000}, "metrics": {"loss": 0.5}}\n{"step": 1, "wall": ${dayAgo + 2000}, "metrics": {"loss": 0.25}}\n`);
    const run = await importRunDir(store, dir);
    // A fresh connection has no cached state: it reads what is stored.
    const other = Store.open(dbPath);
    try {
      assert.deepEqual(other.series(run.id, 'loss').map((p) => p.wall), [dayAgo + 1000, dayAgo + 2000]);
      assert.equal(other.summaries(run.id).loss!.lastWall, dayAgo + 2000);
      assert.equal(other.run(run.id)!.startedAt, dayAgo);
    } finally {
      other.close();
    }
  });
});
