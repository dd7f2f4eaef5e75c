import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { writeBuildContext } from '../../src/core/deploy/docker.ts';
import type { DeployTarget } from '../../src/core/deploy/types.ts';
import { UserError } from '../../src/core/errors.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { makeRunDir } from '../../src/core/workspace.ts';
import { cli } from './cliHarness.ts';
import { tempDir, tempStore } from './helpers.ts';
import { recordRun } from './registryFixtures.ts';

/** A workspace with one finished run whose folder holds model.pkl, and a folder outside it that must stay as it is. */
function setup() {
  const { store, dbPath, workspace } = tempStore();
  const bytes = join(workspace, 'model.bin');
  writeFileSync(bytes, 'bytes of a model');
  const run = recordRun(store, workspace, { model: bytes, name: 'baseline' });
  const outside = tempDir('runboard-outside-');
  mkdirSync(join(outside, '1'));
  writeFileSync(join(outside, '1', 'keep.txt'), 'precious');
  return { store, dbPath, workspace, run, registry: new Registry(store), outside };
}

const untouched = (outside: string) => assert.deepEqual([readdirSync(outside).sort(), readFileSync(join(outside, '1', 'keep.txt'), 'utf8')], [['1'], 'precious']);

test('models register through a linked .runboard/models/NAME is refused in one line; the link target is untouched (it was emptied and written)', () => {
  const { workspace, run, outside } = setup();
  mkdirSync(join(workspace, '.runboard', 'models'));
  symlinkSync(outside, join(workspace, '.runboard', 'models', 'evil'));
  const result = cli(['models', 'register', String(run.id), 'model.pkl', '--name', 'evil'], { cwd: workspace });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^runboard models: .*\.runboard\/models\/evil is a symbolic link \(to .*\): Runboard does not write, copy or remove through links/);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  untouched(outside);
});

test('a linked .runboard/models, or a linked run folder, is refused too', () => {
  const { store, workspace, run, registry, outside } = setup();
  symlinkSync(outside, join(workspace, '.runboard', 'models'));
  assert.throws(() => registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' }), (e: Error) => e instanceof UserError && /models is a symbolic link/.test(e.message));
  untouched(outside);

  const other = recordRun(store, workspace, { model: join(workspace, 'model.bin'), name: 'moved' });
  const moved = join(outside, 'run');
  renameSync(other.runDir!, moved);
  symlinkSync(moved, other.runDir!);
  assert.throws(() => new Registry(store).register({ name: 'n', file: undefined, run: other.id, artifact: 'model.pkl' }), new RegExp(`runs/${other.id} is a symbolic link`));
});

test('run folders are made without following a link under .runboard; a folder a profile names elsewhere is made as given', () => {
  const { dbPath, workspace, outside } = setup();
  const runs = join(workspace, '.runboard', 'runs');
  renameSync(runs, join(outside, 'runs'));
  symlinkSync(join(outside, 'runs'), runs);
  assert.throws(() => makeRunDir(dbPath, join(runs, '9')), /runs is a symbolic link/);
  assert.ok(!existsSync(join(outside, 'runs', '9')));
  const elsewhere = join(tempDir(), 'out', '9');
  makeRunDir(dbPath, elsewhere);
  assert.ok(existsSync(elsewhere));
});

test('deployments never write through a linked .runboard/deploy; the target is not even called', async () => {
  const { store, workspace, run, registry, outside } = setup();
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
  symlinkSync(outside, join(workspace, '.runboard', 'deploy'));
  let called = false;
  const fake: DeployTarget = {
    name: 'fake',
    deploy: async () => {
      called = true;
      return { status: 'deployed' };
    },
    stop: async () => undefined,
    alive: async () => undefined,
  };
  await assert.rejects(new Deployments(store, { settings: {}, targets: [fake] }).deploy('m', { target: 'fake' }), /deploy is a symbolic link/);
  assert.equal(called, false);
  assert.equal(new Deployments(store, { settings: {} }).list().length, 0, 'no deployment row was left behind');
  untouched(outside);
});

test("a docker build context left with links: files are not written through them, linked folders are replaced", () => {
  const { registry, run, outside, workspace } = setup();
  const version = registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
  const dir = join(workspace, '.runboard', 'deploy', '1');
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(outside, '1'), join(dir, 'model'));
  writeBuildContext(dir, version, version.storedPath);
  untouched(outside);
  assert.equal(readFileSync(join(dir, 'model', 'model.pkl'), 'utf8'), 'bytes of a model');
  symlinkSync(join(outside, '1', 'keep.txt'), join(dir, 'Dockerfile2'));
  renameSync(join(dir, 'Dockerfile2'), join(dir, 'Dockerfile'));
  assert.throws(() => writeBuildContext(dir, version, version.storedPath), /Dockerfile is a symbolic link/);
  untouched(outside);
});

test('hard links: an artifact with a name outside its run folder is not that run\'s artifact; names inside it or the registry\'s own copies are fine', () => {
  const { run, registry, outside } = setup();
  const artifact = join(run.runDir!, 'model.pkl');
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
  // The registry's copy is a hard link, so registering the same artifact again still works.
  assert.equal(registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', allowIdentical: true }).version, 2);
  linkSync(artifact, join(run.runDir!, 'best.pkl'));
  assert.equal(registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', allowIdentical: true }).version, 3);
  linkSync(artifact, join(outside, 'elsewhere.pkl'));
  assert.throws(() => registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' }), /has 1 hard link outside run \d+'s folder/);
});
