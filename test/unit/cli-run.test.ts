import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { planSweep } from '../../src/core/launch/sweep.ts';
import { getProfile } from '../../src/core/launch/profiles.ts';
import { CLI_DEADLINE_MS, cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';
import { gitRepo, PY, waitFor } from './launchHelpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

const TRAIN = `
import json, os, sys, time
with open(os.path.join(os.environ["RUNBOARD_RUN_DIR"], "argv.json"), "w") as f:
    json.dump(sys.argv[1:], f)
print("loss=0.5", flush=True)
if "--sleep" in sys.argv:
    time.sleep(60)
`;

const PROFILES = {
  profiles: {
    train: {
      command: ['${interpreter}', 'train.py', '--lr', '${param:lr}', '--depth=${param:depth}', '--tag', '${param:tag}'],
      interpreter: PY,
      params: [
        { name: 'lr', type: 'number', default: 0.1 },
        { name: 'depth', type: 'int', default: 3 },
        { name: 'tag', type: 'string', default: 'two words' },
      ],
      inputs: ['data'],
      experiment: 'cli',
    },
    sleepy: { command: ['${interpreter}', 'train.py', '--sleep'], interpreter: PY },
    missing: { command: ['${interpreter}', 'train.py'], interpreter: 'no-such-python-xyz' },
  },
};

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A workspace that is a git repo with a commit, an uncommitted change, an untracked file and a dataset folder. */
function workspace(): { ws: string; commit: string } {
  const ws = tempDir();
  const commit = gitRepo(ws, { 'train.py': TRAIN, '.gitignore': '.runboard/runs/\n*.db*\n' });
  writeFileSync(join(ws, 'train.py'), `${TRAIN}# tuned\n`);
  writeFileSync(join(ws, 'notes.txt'), 'try a lower lr\n');
  mkdirSync(join(ws, '.runboard'));
  writeFileSync(join(ws, '.runboard', 'profiles.json'), JSON.stringify(PROFILES));
  mkdirSync(join(ws, 'data'));
  writeFileSync(join(ws, 'data', 'train.csv'), 'x,y\n1,2\n');
  return { ws, commit };
}

function openDb(ws: string): Store {
  return Store.open(join(ws, '.runboard', 'runboard.db'));
}

test('run --profile: exact argv and params, git state with the patch, fingerprinted inputs; rerun warns when the code changed', () => {
  const { ws, commit } = workspace();
  const result = cli(['run', '--profile', 'train', '--param', 'lr=0.05', '--input', 'notes.txt'], { cwd: ws });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /loss=0\.5/);
  assert.match(result.stderr, /runboard: run 1 \(run-1\) started/);

  const shown = json(cli(['show', '1', '--json'], { cwd: ws }));
  assert.equal(shown.status, 'finished');
  assert.equal(shown.profile, 'train');
  assert.equal(shown.experiment, 'cli');
  assert.deepEqual(shown.params, { depth: '3', lr: '0.05', tag: 'two words' });
  assert.deepEqual(shown.command, [PY, 'train.py', '--lr', '0.05', '--depth=3', '--tag', 'two words']);
  assert.deepEqual(JSON.parse(readFileSync(join(ws, '.runboard', 'runs', '1', 'argv.json'), 'utf8')), ['--lr', '0.05', '--depth=3', '--tag', 'two words']);
  assert.deepEqual(shown.git, { commit, branch: 'main', dirty: true });
  const dataDigest = sha(`train.csv\0${8}\0${sha('x,y\n1,2\n')}\n`);
  assert.deepEqual(shown.inputs, [
    { path: 'data', fingerprint: dataDigest, size: 8 },
    { path: 'notes.txt', fingerprint: sha('try a lower lr\n'), size: 15 },
  ]);

  const store = openDb(ws);
  try {
    const code = store.codeState(1)!;
    assert.match(code.patch!, /\+# tuned\n/);
    assert.match(code.patch!, /new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/notes\.txt\n@@ -0,0 \+1 @@\n\+try a lower lr\n/);
    assert.ok(!code.patch!.includes('runboard.db'), 'ignored files stay out');
    assert.equal(code.patchTruncated, false);
  } finally {
    store.close();
  }

  const same = cli(['rerun', '1'], { cwd: ws });
  assert.equal(same.code, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /warning/);
  writeFileSync(join(ws, 'train.py'), `${TRAIN}# tuned again\n`);
  const changed = cli(['rerun', '1', '--name', 'again'], { cwd: ws });
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, /runboard: warning: the code differs from run 1's: uncommitted changes differ\. This run records the current code\./);
  assert.match(changed.stderr, /run 3 re-runs run 1/);

  const rerun = json(cli(['show', 'again', '--json'], { cwd: ws }));
  assert.deepEqual([rerun.command, rerun.cwd, rerun.params, rerun.profile, rerun.parent], [shown.command, shown.cwd, shown.params, 'train', 1]);
  assert.deepEqual(rerun.inputs, shown.inputs);
  const reopened = openDb(ws);
  try {
    assert.deepEqual(reopened.upstream('run', 3).filter((e) => e.srcKind === 'run'), [{ srcKind: 'run', srcId: 1, dstKind: 'run', dstId: 3, relation: 'rerun' }]);
    assert.match(reopened.codeState(3)!.patch!, /# tuned again/, 'the rerun records the code as it is now');
  } finally {
    reopened.close();
  }
});

test('sweep from the CLI: grid children under a parent, K at a time; seeded random search is replayable', () => {
  const { ws } = workspace();
  const result = cli(['sweep', '--profile', 'train', '--grid', 'lr=0.1,0.01', '--grid', 'depth=3,5', '--parallel', '2', '--json'], { cwd: ws });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /runboard: sweep 1 \(run-1\): 4 runs, 2 at a time/);
  const answer = JSON.parse(result.stdout);
  assert.equal(answer.status, 'finished');
  assert.deepEqual(
    answer.runs.map((r: { params: Record<string, string> }) => [r.params.lr, r.params.depth]),
    [['0.1', '3'], ['0.1', '5'], ['0.01', '3'], ['0.01', '5']],
  );
  assert.deepEqual(answer.runs.map((r: { status: string }) => r.status), Array(4).fill('finished'));
  const children = json(cli(['runs', '--json'], { cwd: ws })).filter((r: { id: number }) => r.id !== 1);
  assert.equal(children.length, 4);

  const random = cli(['sweep', '--profile', 'train', '--grid', 'lr=0.1,0.01,0.001', '--grid', 'depth=1,2,3', '--random', '3', '--seed', '9', '--json'], { cwd: ws });
  assert.equal(random.code, 0, random.stderr);
  assert.match(random.stderr, /3 runs, 1 at a time, seed 9/);
  const expected = planSweep(getProfile(ws, 'train'), { grid: { lr: ['0.1', '0.01', '0.001'], depth: ['1', '2', '3'] }, random: 3, seed: 9 }).points;
  assert.deepEqual(
    JSON.parse(random.stdout).runs.map((r: { params: Record<string, string> }) => ({ lr: Number(r.params.lr), depth: Number(r.params.depth) })),
    expected,
  );
});

test('stop from another terminal: SIGTERM to the run launched by a different CLI process, recorded as killed', async () => {
  const { ws } = workspace();
  const launcher = spawn(process.execPath, [CLI, 'run', '--profile', 'sleepy'], { cwd: ws, env: { ...process.env, RUNBOARD_DB: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  launcher.stdout.on('data', (c: Buffer) => (output += c.toString()));
  launcher.stderr.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => output.includes('loss=0.5'), CLI_DEADLINE_MS, 'the run to start');

  const stopped = cli(['stop', '1', '--grace', '5'], { cwd: ws });
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.stdout.trim(), 'run 1 killed (SIGTERM)');
  const [code] = await once(launcher, 'exit');
  assert.equal(code, 128 + 15, output);
  assert.match(output, /runboard: run 1 killed \(SIGTERM\)/);
  const shown = json(cli(['show', '1', '--json'], { cwd: ws }));
  assert.deepEqual([shown.status, shown.signal], ['killed', 'SIGTERM']);
  assert.equal(cli(['stop', '1'], { cwd: ws }).stdout.trim(), 'run 1 had already ended (killed)');
});

test('mistakes are one clear line: a broken profiles.json, a bad param, a missing input, an interpreter that does not exist', () => {
  const { ws } = workspace();
  // A run whose process died unseen is closed out by the next command that writes.
  const store = openDb(ws);
  const ghost = store.createRun({ status: 'running' });
  store.markStarted(ghost.id, 2 ** 22 + 12345);
  store.close();

  const badParam = cli(['run', '--profile', 'train', '--param', 'depth=deep'], { cwd: ws });
  assert.equal(badParam.code, 2);
  assert.match(badParam.stderr, /runboard: run 1 \(run-1\) had crashed: Its process \(pid \d+\) ended without Runboard seeing how/);
  assert.match(badParam.stderr, /runboard run: --param depth=deep: depth must be an integer \(param "depth" is int\), not "deep"\n$/);

  const missingInput = cli(['run', '--input', 'nope.csv', '--', PY, 'train.py'], { cwd: ws });
  assert.equal(missingInput.code, 2);
  assert.match(missingInput.stderr, /runboard run: Input not found: .*nope\.csv/);

  const notFound = cli(['run', '--profile', 'missing'], { cwd: ws });
  assert.equal(notFound.code, 127);
  assert.match(notFound.stderr, /runboard: run 2 failed: Command not found: no-such-python-xyz\. Check the interpreter or the profile's command\./);

  writeFileSync(join(ws, '.runboard', 'profiles.json'), JSON.stringify({ profiles: { train: { comand: ['python3'] } } }));
  const broken = cli(['run', '--profile', 'train'], { cwd: ws });
  assert.equal(broken.code, 2);
  assert.equal(broken.stderr, `runboard run: .runboard/profiles.json: profile "train": field "comand" is unknown (fields: command, cwd, env, params, inputs, outputs, interpreter, regex, readers, mlflow, gates, monitor, sweep, experiment, description)\n`);
  writeFileSync(join(ws, '.runboard', 'profiles.json'), '{ "profiles": ');
  const unreadable = cli(['sweep', '--profile', 'train', '--grid', 'lr=1'], { cwd: ws });
  assert.equal(unreadable.code, 2);
  assert.match(unreadable.stderr, /^runboard sweep: \.runboard\/profiles\.json is not valid JSON: .*\n$/);
  assert.deepEqual(json(cli(['runs', '--json'], { cwd: ws })).map((r: { id: number; status: string }) => [r.id, r.status]), [[2, 'failed'], [1, 'crashed']]);
});
