import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { endRun, requestStop } from '../../src/core/launch/lifecycle.ts';
import { isSameProcess, processStartMs } from '../../src/core/launch/process.ts';
import { reconcileCrashed } from '../../src/core/launch/reconcile.ts';
import { launch, launchProfile, queueRun } from '../../src/core/launch/runner.ts';
import { stopRun } from '../../src/core/launch/stop.ts';
import { pythonDir } from '../../src/core/paths.ts';
import { buildRun, tempStore } from './helpers.ts';
import { alive, PY, waitFor } from './launchHelpers.ts';

const ENV_DUMP = `
import json, os, sys
keys = ["RUNBOARD_RUN_ID", "RUNBOARD_RUN_DIR", "RUNBOARD_DB", "PYTHONPATH", "PYTHONUNBUFFERED", "FROM_SPEC"]
with open(os.path.join(os.environ["RUNBOARD_RUN_DIR"], "env.json"), "w") as f:
    json.dump({"env": {k: os.environ.get(k) for k in keys}, "argv": sys.argv[1:], "cwd": os.getcwd()}, f)
`;

// Prints "ready" once its SIGTERM handling is set up, starts a grandchild in its group, then sleeps.
const SLEEPER = `
import os, signal, subprocess, sys, time
if "ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if "exit-on-term" in sys.argv:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
child = subprocess.Popen(["sleep", "60"])
with open("grandchild.pid", "w") as f:
    f.write(str(child.pid))
print("ready", flush=True)
time.sleep(60)
`;

function ws() {
  const t = tempStore();
  writeFileSync(join(t.workspace, 'env_dump.py'), ENV_DUMP);
  writeFileSync(join(t.workspace, 'sleeper.py'), SLEEPER);
  return t;
}

/** Resolves once the run has printed "ready" (its signal handlers are in place). */
function readiness(): { output: { stdout(chunk: Buffer): void }; ready: Promise<void> } {
  let resolve!: () => void;
  const ready = new Promise<void>((r) => (resolve = r));
  let text = '';
  return {
    output: {
      stdout(chunk) {
        text += chunk.toString();
        if (text.includes('ready')) resolve();
      },
    },
    ready,
  };
}

test('a launched run gets its RUNBOARD_* variables and the client on PYTHONPATH ahead of the user\'s', async () => {
  const { store, dbPath, workspace } = ws();
  const handle = launch(store, {
    dbPath,
    command: [PY, 'env_dump.py', 'two words', '--x=1'],
    cwd: workspace,
    env: { FROM_SPEC: 'yes', PYTHONPATH: '/user/lib' },
    params: { lr: 0.1, deep: true },
  });
  const run = await handle.done;
  assert.equal(run.status, 'finished', run.error ?? '');
  const runDir = join(workspace, '.runboard', 'runs', String(run.id));
  const dump = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8'));
  assert.deepEqual(dump.env, {
    RUNBOARD_RUN_ID: String(run.id),
    RUNBOARD_RUN_DIR: runDir,
    RUNBOARD_DB: dbPath,
    PYTHONPATH: `${pythonDir()}:/user/lib`,
    PYTHONUNBUFFERED: '1',
    FROM_SPEC: 'yes',
  });
  assert.deepEqual(dump.argv, ['two words', '--x=1']);
  assert.equal(run.runDir, runDir);
  assert.deepEqual(store.params(run.id), { deep: 'true', lr: '0.1' });
  const env = store.environment(run.id)!;
  assert.equal((env.python as { executable: string }).executable.length > 0, true, 'the python version is recorded');
  assert.equal(typeof (env.packages as Record<string, string>), 'object');
  assert.equal(env.node, process.version);
  assert.ok(run.startedAt! <= run.endedAt!);
});

test('capture: metric lines (built-in formats and the profile regex) are all stored before the run is marked ended', async () => {
  const { store, dbPath, workspace } = ws();
  const script = 'for i in range(50):\n    print(f"step={i} loss={1 / (i + 1)}")\n    print(f"acc: {i / 50}")';
  let pointsWhenEnded = -1;
  store.onDidChange((change) => {
    for (const id of change.runs) if (store.run(id)?.status === 'finished') pointsWhenEnded = store.series(id, 'loss').length + store.series(id, 'acc').length;
  });
  const run = await launch(store, { dbPath, command: [PY, '-c', script], cwd: workspace, regex: 'acc: (?<acc>\\S+)' }).done;
  assert.equal(run.status, 'finished');
  assert.equal(pointsWhenEnded, 100);
  assert.equal(store.summaries(run.id).loss!.last, 1 / 50);
  assert.match(readFileSync(join(run.runDir!, 'stdout.log'), 'utf8'), /^step=0 loss=1.0\nacc: 0.0\n/);
  assert.throws(() => launch(store, { dbPath, command: [PY], cwd: workspace, regex: 'acc: (\\S+)' }), /named groups/);
});

test('stop: SIGTERM to the whole process group, recorded as killed with the signal', async () => {
  const { store, dbPath, workspace } = ws();
  const { output, ready } = readiness();
  const handle = launch(store, { dbPath, command: [PY, 'sleeper.py'], cwd: workspace }, output);
  await ready;
  const grandchild = Number(readFileSync(join(workspace, 'grandchild.pid'), 'utf8'));
  assert.ok(alive(grandchild));
  await handle.stop(5000);
  const run = await handle.done;
  assert.equal(run.status, 'killed');
  assert.equal(run.signal, 'SIGTERM');
  assert.equal(run.pid, null);
  await waitFor(() => !alive(grandchild), 10_000, 'the grandchild to die');
});

test('stop escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
  const { store, dbPath, workspace } = ws();
  const { output, ready } = readiness();
  const handle = launch(store, { dbPath, command: [PY, 'sleeper.py', 'ignore-term'], cwd: workspace }, output);
  await ready;
  const started = Date.now();
  await handle.stop(300);
  const run = await handle.done;
  assert.equal(run.status, 'killed');
  assert.equal(run.signal, 'SIGKILL');
  assert.ok(Date.now() - started >= 300, 'the grace period is honoured');
});

test('a script that exits cleanly on SIGTERM is still recorded as killed, not finished', async () => {
  const { store, dbPath, workspace } = ws();
  const { output, ready } = readiness();
  const handle = launch(store, { dbPath, command: [PY, 'sleeper.py', 'exit-on-term'], cwd: workspace }, output);
  await ready;
  await handle.stop();
  const run = await handle.done;
  assert.equal(run.status, 'killed');
  assert.equal(run.exitCode, 0);
  assert.equal(run.signal, 'SIGTERM');
});

test('a training process killed by SIGKILL (say, the OOM killer) is recorded as killed', async () => {
  const { store, dbPath, workspace } = ws();
  const handle = launch(store, { dbPath, command: [PY, '-c', 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'], cwd: workspace });
  const run = await handle.done;
  assert.equal(run.status, 'killed');
  assert.equal(run.signal, 'SIGKILL');
});

test('a command that does not exist fails with a clear message; a missing input or cwd is a UserError before anything is recorded', async () => {
  const { store, dbPath, workspace } = ws();
  const run = await launch(store, { dbPath, command: ['no-such-trainer-xyz'], cwd: workspace }).done;
  assert.equal(run.status, 'failed');
  assert.match(run.error!, /^Command not found: no-such-trainer-xyz\./);
  assert.equal(run.exitCode, null);

  const refused = await launch(store, { dbPath, command: [PY, 'bad\0arg'], cwd: workspace }).done;
  assert.equal(refused.status, 'failed');
  assert.match(refused.error!, /^Runboard could not start the run: .*null bytes/);

  assert.throws(() => launch(store, { dbPath, command: [PY, 'env_dump.py'], cwd: workspace, inputs: ['data/missing.csv'] }), {
    name: 'UserError',
    message: /Input not found: data\/missing\.csv/,
  });
  assert.throws(() => launch(store, { dbPath, command: [PY], cwd: join(workspace, 'nope') }), /Working directory not found/);
  assert.equal(store.countRuns(), 2, 'no run was recorded for the mistakes');
});

test('stopped before it started: no process is spawned', async () => {
  const { store, dbPath, workspace } = ws();
  const handle = launch(store, { dbPath, command: [PY, 'sleeper.py'], cwd: workspace });
  await handle.stop();
  const run = await handle.done;
  assert.equal(run.status, 'killed');
  assert.equal(run.startedAt, null);
  assert.match(run.error!, /before it started/);
});

test('stopRun works through the store alone (as from another process), and the first terminal status wins', async () => {
  const { store, dbPath, workspace } = ws();
  const { output, ready } = readiness();
  const handle = launch(store, { dbPath, command: [PY, 'sleeper.py', 'ignore-term'], cwd: workspace }, output);
  await ready;
  const result = await stopRun(store, handle.run.id, { graceMs: 200, pollMs: 20 });
  assert.equal(result.alreadyEnded, false);
  assert.equal(result.run.status, 'killed');
  assert.equal(result.run.signal, 'SIGKILL');
  const final = await handle.done;
  assert.deepEqual([final.status, final.signal], ['killed', 'SIGKILL'], 'the launcher did not overwrite the outcome');
  assert.equal((await stopRun(store, final.id)).alreadyEnded, true);

  const run = store.createRun({ status: 'running' });
  assert.equal(endRun(store, run.id, { status: 'crashed', error: 'first' }), true);
  assert.equal(endRun(store, run.id, { status: 'finished', exitCode: 0 }), false);
  assert.equal(requestStop(store, run.id, 'SIGTERM'), false, 'an ended run takes no stop request');
  assert.deepEqual([store.run(run.id)!.status, store.run(run.id)!.error], ['crashed', 'first']);
});

test('a second stop without grace kills at once', async () => {
  const { store, dbPath, workspace } = ws();
  const { output, ready } = readiness();
  const handle = launch(store, { dbPath, command: [PY, 'sleeper.py', 'ignore-term'], cwd: workspace }, output);
  await ready;
  const started = Date.now();
  void handle.stop(60_000);
  await handle.stop(0);
  assert.deepEqual([store.run(handle.run.id)!.status, store.run(handle.run.id)!.signal], ['killed', 'SIGKILL']);
  assert.ok(Date.now() - started < 10_000);
});

test('stopRun on a run that recorded itself (not its own process group) signals that process only', async () => {
  const { store } = tempStore();
  // Like a script started from a shell that logs through the Python client: it shares our group.
  const script = spawn(PY, ['-c', 'import time; time.sleep(60)'], { stdio: 'ignore' });
  after(() => script.kill('SIGKILL'));
  await once(script, 'spawn');
  const run = store.createRun({ command: [PY] });
  store.markStarted(run.id, script.pid!);
  const exited = once(script, 'exit');
  const result = await stopRun(store, run.id, { graceMs: 5000, pollMs: 20 });
  assert.deepEqual([result.run.status, result.run.signal], ['killed', 'SIGTERM']);
  assert.deepEqual(await exited, [null, 'SIGTERM']);
});

test('launchProfile expands params into argv elements and records the typed values', async () => {
  const { store, dbPath, workspace } = ws();
  const profile = {
    name: 'train',
    command: ['${interpreter}', 'env_dump.py', '--lr=${param:lr}', '${param:opt}', 'depth ${param:depth}'],
    env: {},
    params: [
      { name: 'lr', type: 'number' as const, default: 0.1 },
      { name: 'opt', type: 'choice' as const, choices: ['adam', 'sgd'], default: 'adam' },
      { name: 'depth', type: 'int' as const },
    ],
    inputs: [],
    gates: [],
    interpreter: PY,
  };
  const run = await launchProfile(store, { dbPath, workspace, profile, params: { lr: '1e-3', depth: '4' } }).done;
  assert.equal(run.status, 'finished', run.error ?? '');
  assert.equal(run.profile, 'train');
  assert.deepEqual(run.command, [PY, 'env_dump.py', '--lr=0.001', 'adam', 'depth 4']);
  assert.deepEqual(store.params(run.id), { depth: '4', lr: '0.001', opt: 'adam' });
  assert.throws(() => launchProfile(store, { dbPath, workspace, profile, params: { depth: '4.5' } }), /depth must be an integer/);
  assert.throws(() => launchProfile(store, { dbPath, workspace, profile, params: {} }), /needs a value for depth/);
});

test('reconcile: a run whose process died unseen is crashed, its points kept; live ones are left alone', async () => {
  const { store } = tempStore();
  const sleeper = spawn(PY, ['-c', 'import time; time.sleep(60)'], { stdio: 'ignore' });
  after(() => sleeper.kill('SIGKILL'));
  await once(sleeper, 'spawn');
  const dead = buildRun(store, { series: { loss: [1, 0.5] } });
  store.markStarted(dead.id, sleeper.pid!);
  const live = store.createRun({});
  store.markStarted(live.id, process.pid);
  // A pid that now belongs to a process started long after the run: the run's own process is gone.
  const reused = store.createRun({});
  store.markStarted(reused.id, process.pid);
  store.db.prepare('UPDATE runs SET started_at = ? WHERE id = ?').run(processStartMs(process.pid)! - 3_600_000, reused.id);

  assert.deepEqual(reconcileCrashed(store).map((r) => r.id), [reused.id], 'the sleeper is still alive; the reused pid is not the run\'s');
  sleeper.kill('SIGKILL');
  await once(sleeper, 'exit');

  assert.deepEqual(reconcileCrashed(store).map((r) => r.id), [dead.id]);
  const crashed = store.run(dead.id)!;
  assert.equal(crashed.status, 'crashed');
  assert.match(crashed.error!, new RegExp(`pid ${sleeper.pid}`));
  assert.equal(store.series(dead.id, 'loss').length, 2, 'every point is kept');
  assert.equal(store.run(live.id)!.status, 'running');
  assert.deepEqual(reconcileCrashed(store), [], 'idempotent');
});

test('reconcile: runs whose launcher is gone are crashed unless their process lives on; a live launcher is trusted', async () => {
  const { store, dbPath, workspace } = tempStore();
  const launcher = spawn(PY, ['-c', 'import time; time.sleep(60)'], { stdio: 'ignore' });
  after(() => launcher.kill('SIGKILL'));
  await once(launcher, 'spawn');
  const spec = { dbPath, command: [PY], cwd: workspace };
  const queued = queueRun(store, spec);
  const claimedNoPid = queueRun(store, spec);
  store.db.prepare(`UPDATE runs SET status = 'running' WHERE id = ?`).run(claimedNoPid.id);
  for (const run of [queued, claimedNoPid]) store.setTags(run.id, { 'runboard.launcher': launcher.pid! });
  const mine = queueRun(store, spec);

  assert.deepEqual(reconcileCrashed(store), [], 'launchers alive');
  launcher.kill('SIGKILL');
  await once(launcher, 'exit');
  assert.deepEqual(reconcileCrashed(store).map((r) => [r.id, r.error]).sort(), [
    [queued.id, `Its launcher (pid ${launcher.pid}) exited before it started`],
    [claimedNoPid.id, `Its launcher (pid ${launcher.pid}) exited while it ran`],
  ]);
  assert.equal(store.run(mine.id)!.status, 'queued', 'this process launched it and is alive');
  assert.equal(isSameProcess(launcher.pid!, Date.now()), false);
});
