import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { importMlflowStore } from '../../src/core/mlflow/importStore.ts';
import { Store } from '../../src/core/store/store.ts';
import { parseRunFilter } from '../../src/shared/runFilter.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'mlruns');
const VISION = '610841116666177923';
const PARENT = 'dd83d43934f643ab80dd094a7b54101e';
const CHILD = 'a242a41ef83648af9142e5f3b1b6c245';
const DIVERGED = 'f40651e13b6c4a3cac988f26b6613458';
const PLAIN = '94a5087d5ba44a6f8e3a9a27290816f7';

/** A copy of the recorded mlruns/ (tests spoil it) and an empty workspace whose store is closed when the test file ends. */
function setup() {
  const ws = tempDir();
  const mlruns = join(ws, 'mlruns');
  cpSync(FIXTURE, mlruns, { recursive: true });
  const db = join(ws, '.runboard', 'runboard.db');
  const opened: Store[] = [];
  const open = () => {
    const store = Store.open(db);
    opened.push(store);
    return store;
  };
  return { ws, mlruns, db, open, closeAll: () => opened.forEach((s) => s.close()) };
}

/** Files below a folder, by relative path (what the fixture holds, read without the importer). */
function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test('import-mlflow reads every experiment, run, param, tag, metric point and artifact the fixture holds', () => {
  const { mlruns, open, closeAll } = setup();
  // Experiment tags, as MLflow's set_experiment_tag writes them (a key with / nests).
  mkdirSync(join(mlruns, VISION, 'tags', 'owner'), { recursive: true });
  writeFileSync(join(mlruns, VISION, 'tags', 'team'), 'vision');
  writeFileSync(join(mlruns, VISION, 'tags', 'owner', 'email'), 'ana@example.org');
  const store = open();
  const report = importMlflowStore(store, mlruns);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.skipped, []);
  const runDirs = [PLAIN, PARENT, CHILD, DIVERGED].map((id) => join(mlruns, id === PLAIN ? '0' : VISION, id));
  assert.deepEqual(report.imported.map((r) => r.mlflowId).sort(), [PLAIN, PARENT, CHILD, DIVERGED].sort());
  assert.deepEqual(store.experiments().map((e) => [e.name, e.runCount]).sort(), [['Default', 1], ['vision', 3]]);
  assert.deepEqual(store.experimentTags(store.experimentId('vision')), { 'owner/email': 'ana@example.org', team: 'vision' });
  for (const dir of runDirs) {
    const run = store.runByMlflowId(dir.slice(-32))!;
    const expectParams = Object.fromEntries(filesIn(join(dir, 'params')).map((k) => [k, readFileSync(join(dir, 'params', k), 'utf8')]));
    const expectTags = Object.fromEntries(filesIn(join(dir, 'tags')).map((k) => [k, readFileSync(join(dir, 'tags', k), 'utf8')]));
    assert.deepEqual(store.params(run.id), expectParams);
    assert.deepEqual(store.tags(run.id), expectTags);
    assert.equal(run.name, expectTags['mlflow.runName']);
    assert.equal(run.user, 'root');
    const meta = readFileSync(join(dir, 'meta.yaml'), 'utf8');
    assert.equal(run.startedAt, Number(/start_time: (\d+)/.exec(meta)![1]));
    assert.equal(run.endedAt, Number(/end_time: (\d+)/.exec(meta)![1]));
    for (const key of filesIn(join(dir, 'metrics'))) {
      const lines = readFileSync(join(dir, 'metrics', key), 'utf8').trim().split('\n');
      const steps = new Set(lines.map((l) => l.split(' ')[2]));
      assert.equal(store.series(run.id, key).length, steps.size, `${key} of ${run.name}: one point per step`);
    }
    assert.deepEqual(Object.keys(store.summaries(run.id)).sort(), filesIn(join(dir, 'metrics')));
    const artifacts = filesIn(join(dir, 'artifacts'));
    assert.deepEqual(store.artifacts(run.id).map((a) => a.path), artifacts.map((a) => `artifacts/${a}`));
    for (const artifact of store.artifacts(run.id)) {
      const copy = readFileSync(join(run.runDir!, artifact.path));
      assert.equal(artifact.sha256, createHash('sha256').update(copy).digest('hex'));
      assert.deepEqual(copy, readFileSync(join(dir, artifact.path)));
    }
  }
  const parent = store.runByMlflowId(PARENT)!;
  const child = store.runByMlflowId(CHILD)!;
  assert.equal(child.parentId, parent.id, 'mlflow.parentRunId makes the parent');
  assert.equal(store.runByMlflowId(DIVERGED)!.status, 'failed');
  assert.equal(parent.status, 'finished');
  assert.deepEqual(store.series(child.id, 'loss').map((p) => p.value), [0.9, NaN, Infinity]);
  assert.equal(store.summaries(child.id).score!.last, -Infinity);
  assert.equal(store.codeState(parent.id)?.commit, readFileSync(join(runDirs[1]!, 'tags', 'mlflow.source.git.commit'), 'utf8'));
  const page = store.runPage({ filter: parseRunFilter(`run_id = '${CHILD}' and metrics.loss > 1`), sort: { by: 'created', descending: true }, limit: 10, offset: 0 });
  assert.deepEqual(page.runs.map((r) => r.id), [child.id], 'imported runs answer the filter grammar (last loss is +Inf)');
  closeAll();
});

test('a second import adds nothing and says so; a run logged since is added', () => {
  const { ws, mlruns, db } = setup();
  const first = cli(['import-mlflow', mlruns, '--db', db], { cwd: ws });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `Imported 4 runs from ${mlruns}.\n`);
  const again = cli(['import-mlflow', `file://${mlruns}`, '--db', db, '--json'], { cwd: ws });
  assert.equal(again.code, 0, again.stderr);
  const report = json<{ imported: unknown[]; skipped: string[] }>(again);
  assert.deepEqual(report.imported, []);
  assert.equal(report.skipped.length, 4);
  const plain = cli(['import-mlflow', ws, '--db', db], { cwd: ws });
  assert.equal(plain.stdout, `Imported 0 runs from ${mlruns}; 4 imported before, left as they are.\n`, 'the folder holding mlruns/ is read too');
  // A run MLflow logged after the first import.
  const later = 'abcdefabcdefabcdefabcdefabcdef01';
  cpSync(join(mlruns, '0', PLAIN), join(mlruns, '0', later), { recursive: true });
  const added = cli(['import-mlflow', mlruns, '--db', db], { cwd: ws });
  assert.equal(added.stdout, `Imported 1 run from ${mlruns}; 4 imported before, left as they are.\n`);
  const store = Store.open(db);
  try {
    assert.equal(store.runs().length, 5);
    assert.equal(store.runByMlflowId(later)?.name, 'plain');
  } finally {
    store.close();
  }
});

test('corrupt meta.yaml, status or metric line: one line each naming the file, the rest imported, exit 1', () => {
  const { ws, mlruns, db } = setup();
  writeFileSync(join(mlruns, VISION, DIVERGED, 'meta.yaml'), 'status: 4\nthis is: not: yaml: [\n');
  writeFileSync(join(mlruns, VISION, CHILD, 'meta.yaml'), readFileSync(join(mlruns, VISION, CHILD, 'meta.yaml'), 'utf8').replace('status: 3', 'status: 9'));
  const loss = join(mlruns, VISION, PARENT, 'metrics', 'loss');
  writeFileSync(loss, `${readFileSync(loss, 'utf8')}garbage line\n1795625039300 0.2 3\n`);
  const result = cli(['import-mlflow', mlruns, '--db', db], { cwd: ws });
  assert.equal(result.code, 1);
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('runboard import-mlflow:'));
  assert.deepEqual(lines, [
    `runboard import-mlflow: ${join(mlruns, VISION, DIVERGED)}: meta.yaml line 2 is not "key: value": "this is: not: yaml: ["; not imported`,
    `runboard import-mlflow: ${loss} line 4: "garbage line" is not "timestamp value step"; that line was left out`,
    `runboard import-mlflow: ${join(mlruns, VISION, CHILD)}: meta.yaml: status "9" is none of MLflow's (1-5); not imported`,
  ]);
  assert.match(result.stdout, /^Imported 2 runs from .*; 3 left out \(above\)\.\n$/);
  const store = Store.open(db);
  try {
    const parent = store.runByMlflowId(PARENT)!;
    assert.deepEqual(store.series(parent.id, 'loss').map((p) => p.value), [1, 0.6, 0.4, 0.2], 'the good lines around the bad one are kept');
    assert.equal(store.runByMlflowId(CHILD), undefined, 'a run refused leaves nothing behind');
  } finally {
    store.close();
  }
});

test('hostile store: linked artifacts and run folders are left out, a linked run folder in .runboard refuses the run, odd names stay names', () => {
  const { ws, mlruns, open, closeAll } = setup();
  const outside = tempDir();
  writeFileSync(join(outside, 'secret'), 'do not copy');
  symlinkSync(join(outside, 'secret'), join(mlruns, VISION, PARENT, 'artifacts', 'stolen.txt'));
  symlinkSync(outside, join(mlruns, VISION, PARENT, 'artifacts', 'linked-folder'));
  symlinkSync(join(outside, 'secret'), join(mlruns, VISION, PARENT, 'params', 'leak'));
  // A run folder that is a link to another store's run.
  const elsewhere = join(outside, 'run');
  cpSync(join(mlruns, '0', PLAIN), elsewhere, { recursive: true });
  symlinkSync(elsewhere, join(mlruns, '0', 'ffffffffffffffffffffffffffffffff'));
  // An experiment whose name is a path, and a run folder not named by a run id.
  mkdirSync(join(mlruns, '7', PLAIN.replace('9', '8')), { recursive: true });
  writeFileSync(join(mlruns, '7', 'meta.yaml'), "experiment_id: '7'\nlifecycle_stage: active\nname: ../../escape\n");
  cpSync(join(mlruns, '0', PLAIN, 'meta.yaml'), join(mlruns, '7', PLAIN.replace('9', '8'), 'meta.yaml'));
  mkdirSync(join(mlruns, '7', '..evil'));
  writeFileSync(join(mlruns, '7', '..evil', 'meta.yaml'), 'status: 3\n');

  const store = open();
  const report = importMlflowStore(store, mlruns);
  const parent = store.runByMlflowId(PARENT)!;
  assert.deepEqual(store.artifacts(parent.id).map((a) => a.path), ['artifacts/model.txt', 'artifacts/reports/notes.md']);
  assert.equal(store.params(parent.id).leak, undefined);
  assert.ok(report.problems.some((p) => p === `${join(mlruns, VISION, PARENT, 'artifacts', 'stolen.txt')}: a symbolic link, not a regular file; left out`), report.problems.join('\n'));
  assert.ok(report.problems.some((p) => p.startsWith(`${join(mlruns, VISION, PARENT, 'artifacts', 'linked-folder')}: a symbolic link`)));
  assert.ok(report.problems.includes(`${join(mlruns, '0', 'ffffffffffffffffffffffffffffffff')}: a symbolic link; left out`));
  assert.ok(report.problems.includes(`${join(mlruns, '7', '..evil')}: the folder is not named by a 32-hex MLflow run id; not imported`));
  assert.equal(store.experimentByName('../../escape')?.runCount, 1, 'an experiment name is only a name');
  assert.equal(existsSync(join(ws, '..', 'escape')), false);
  assert.deepEqual(filesIn(outside), ['run/meta.yaml', 'run/tags/mlflow.runName', 'run/tags/mlflow.source.git.commit', 'run/tags/mlflow.source.name', 'run/tags/mlflow.source.type', 'run/tags/mlflow.user', 'run/metrics/accuracy', 'secret'].sort());
  closeAll();

  // A cloned repository may ship .runboard/runs/<id> as a link: the import never writes through it.
  const second = setup();
  const next = Store.open(second.db);
  const firstId = next.createRun({}).id;
  next.deleteRun(firstId);
  next.close();
  const target = tempDir();
  mkdirSync(join(second.ws, '.runboard', 'runs'), { recursive: true });
  // Runs are imported in folder order: Default's run, then the parent (the next id but one).
  symlinkSync(target, join(second.ws, '.runboard', 'runs', String(firstId + 2)));
  const result = cli(['import-mlflow', second.mlruns, '--db', second.db], { cwd: second.ws });
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`${PARENT}: .*runs/${firstId + 2} is a symbolic link.*; not imported`));
  assert.deepEqual(readdirSync(target), [], 'nothing written through the link');
  rmSync(join(second.ws, '.runboard', 'runs', String(firstId + 2)));
});
