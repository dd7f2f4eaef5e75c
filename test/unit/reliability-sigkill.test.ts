import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signalGroup } from '../../src/core/launch/process.ts';
import { Store } from '../../src/core/store/store.ts';
import { CLI_DEADLINE_MS, cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';
import { alive, PY, waitFor } from './launchHelpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
const LINES = 200_000;
const TRIALS = 3;

// Prints LINES metric lines and logs `acc` through the Python client every 10th; once its output
// pipe is gone it lives on (as a training loop that stops printing would), so only a stop ends it.
const TRAIN = `import sys, time, runboard
try:
    for i in range(${LINES}):
        sys.stdout.write('{"loss": %r}\\n' % (1.0 / (i + 1)))
        if i % 10 == 0:
            runboard.log(acc=i / ${LINES})
except OSError:  # the output pipe is gone (EPIPE, or ECONNRESET for a socket pair)
    pass
time.sleep(120)
`;

/** Metric lines of a log: the lines JSON can read (a line cut by the kill is malformed in both). */
function metricLines(file: string, key: string): number {
  let count = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if (typeof value[key] === 'number' || (typeof value.metrics === 'object' && value.metrics !== null && key in value.metrics)) count++;
    } catch {
      // not a whole record
    }
  }
  return count;
}

describe('SIGKILL of `runboard run`', () => {
  it('the next `runboard runs` stops the orphaned process, ends the run and re-ingests the logs exactly', async () => {
    const ws = tempDir();
    writeFileSync(join(ws, 'train.py'), TRAIN);
    const dbPath = join(ws, '.runboard', 'runboard.db');
    for (let trial = 0; trial < TRIALS; trial++) {
      const name = `t${trial}`;
      const recorder = spawn(process.execPath, [CLI, 'run', '--name', name, '--', PY, 'train.py'], {
        cwd: ws,
        env: { ...process.env, RUNBOARD_DB: '' },
        stdio: 'ignore',
      });
      const pidOf = () => {
        if (!existsSync(dbPath)) return null;
        let store: Store;
        try {
          store = Store.open(dbPath, { readonly: true });
        } catch {
          return null; // being created and migrated by the recorder
        }
        try {
          return store.runs().find((r) => r.name === name)?.pid ?? null;
        } finally {
          store.close();
        }
      };
      let pid: number | null = null;
      await waitFor(() => (pid = pidOf()) !== null, CLI_DEADLINE_MS, 'the training process');
      const group = pid!;
      after(() => signalGroup(group, 'SIGKILL'));
      // At a random moment of capture: early, mid-stream, or while points are being committed.
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 2500));
      recorder.kill('SIGKILL');
      await once(recorder, 'exit');
      assert.ok(alive(pid!), 'the training process outlived its recorder');

      const listed = cli(['runs', '--json'], { cwd: ws });
      assert.equal(listed.code, 0, listed.stderr);
      const run = json<{ name: string; status: string }[]>(listed).find((r) => r.name === name)!;
      assert.equal(run.status, 'killed', `trial ${trial}`);
      assert.equal(alive(pid!), false, 'the orphaned training process was stopped');

      const shown = json(cli(['show', name, '--json'], { cwd: ws }));
      assert.match(shown.error, /recorder .*died/);
      const logged = { loss: metricLines(join(shown.runDir, 'stdout.log'), 'loss'), acc: metricLines(join(shown.runDir, 'metrics.jsonl'), 'acc') };
      assert.ok(logged.loss > 0, `trial ${trial}: something was printed`);
      assert.deepEqual({ loss: shown.metrics.loss?.count ?? 0, acc: shown.metrics.acc?.count ?? 0 }, logged, `trial ${trial}: points = metric lines of the logs`);
    }
  });
});

describe('`runboard import` of a folder without run.json', () => {
  it('says it is the output folder of a run of this database, or of a `runboard run` elsewhere', () => {
    const ws = tempDir();
    writeFileSync(join(ws, 'train.py'), 'print(\'{"loss": 1}\')\n');
    assert.equal(cli(['run', '--name', 'here', '--', PY, 'train.py'], { cwd: ws }).code, 0);
    const runDir = json(cli(['show', 'here', '--json'], { cwd: ws })).runDir as string;
    const own = cli(['import', runDir], { cwd: ws });
    assert.equal(own.code, 2, own.stderr);
    assert.match(own.stderr, /is the output folder of run here \(#1\) of this database: it is recorded already/);

    const elsewhere = tempDir();
    const other = cli(['import', runDir], { cwd: elsewhere });
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /has no run\.json: it is the output folder of a `runboard run`, recorded in the database of the workspace that ran it/);
    assert.doesNotMatch(other.stderr, /\n\s+at /, 'no stack trace');
  });
});
