import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeDifference } from '../../src/core/launch/rerun.ts';
import { captureCodeState, displayPath, fingerprintInput, pythonEnvironment, systemEnvironment } from '../../src/core/launch/snapshot.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir, tempStore } from './helpers.ts';
import { gitRepo, PY } from './launchHelpers.ts';

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

test('code state: commit, branch, dirty flag, and a patch with tracked changes and untracked text files', async () => {
  const repo = tempDir();
  const commit = gitRepo(repo, { 'train.py': 'lr = 0.1\nprint(lr)\n', '.gitignore': 'ignored.txt\n' });
  assert.deepEqual(await captureCodeState(repo), { commit, branch: 'main', dirty: false, patch: null, patchTruncated: false });

  writeFileSync(join(repo, 'train.py'), 'lr = 0.01\nprint(lr)\n');
  writeFileSync(join(repo, 'notes.md'), 'first\nsecond');
  writeFileSync(join(repo, 'weights.bin'), Buffer.from([1, 0, 2, 0]));
  writeFileSync(join(repo, 'ignored.txt'), 'not part of the code');
  mkdirSync(join(repo, 'sub'));
  const state = await captureCodeState(join(repo, 'sub'));
  assert.equal(state.commit, commit);
  assert.equal(state.branch, 'main');
  assert.equal(state.dirty, true);
  assert.equal(state.patchTruncated, false);
  assert.match(state.patch!, /^diff --git a\/train\.py b\/train\.py\n/);
  assert.match(state.patch!, /\n-lr = 0\.1\n\+lr = 0\.01\n/);
  assert.ok(
    state.patch!.includes('diff --git a/notes.md b/notes.md\nnew file mode 100644\n--- /dev/null\n+++ b/notes.md\n@@ -0,0 +1,2 @@\n+first\n+second\n\\ No newline at end of file\n'),
    state.patch!,
  );
  assert.ok(state.patch!.includes('Binary files /dev/null and b/weights.bin differ'));
  assert.ok(!state.patch!.includes('ignored'), 'ignored files are not code');

  // The patch applies: it is what `git apply` takes to rebuild the work tree from the commit.
  const clone = tempDir();
  execFileSync('git', ['clone', '-q', repo, clone]);
  writeFileSync(join(clone, 'run.patch'), state.patch!.replace(/diff --git a\/weights\.bin[^]*?differ\n/, ''));
  execFileSync('git', ['apply', 'run.patch'], { cwd: clone });
  assert.equal(execFileSync('git', ['diff', '--stat', 'HEAD'], { cwd: clone, encoding: 'utf8' }).includes('train.py'), true);

  const small = await captureCodeState(repo, 120);
  assert.equal(small.patchTruncated, true);
  assert.ok(Buffer.byteLength(small.patch ?? '') <= 120);

  assert.equal(codeDifference(state, state), null);
  assert.equal(codeDifference(state, { ...state, patch: 'other' }), 'uncommitted changes differ');
  assert.match(codeDifference(state, { ...state, commit: 'f'.repeat(40) })!, new RegExp(`^commit ${commit.slice(0, 10)} → ffffffffff`));
});

test('code state outside a repository is all null; a repository without commits still has a branch and a patch', async () => {
  const plain = tempDir();
  assert.deepEqual(await captureCodeState(plain), { commit: null, branch: null, dirty: false, patch: null, patchTruncated: false });
  const fresh = tempDir();
  execFileSync('git', ['init', '-q', '-b', 'dev'], { cwd: fresh });
  writeFileSync(join(fresh, 'a.py'), 'x = 1\n');
  const state = await captureCodeState(fresh);
  assert.equal(state.commit, null);
  assert.equal(state.branch, 'dev');
  assert.equal(state.dirty, true);
  assert.match(state.patch!, /\+\+\+ b\/a\.py\n@@ -0,0 \+1 @@\n\+x = 1\n/);
});

test('input fingerprints: sha256 of a file; a folder digest over sorted (path, size, sha256); the cache spares unchanged files', async () => {
  const { store, workspace } = tempStore();
  const data = join(workspace, 'data');
  mkdirSync(join(data, 'nested'), { recursive: true });
  const files: Record<string, string> = { 'b.csv': 'x,y\n1,2\n', 'a.csv': 'x,y\n3,4\n', 'nested/c.txt': 'hello' };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(data, name), text);
  // Files written this instant are not cached (their mtime could still change unseen); these are older.
  let minutesAgo = 60;
  const age = (name: string) => {
    const old = new Date(Date.now() - minutesAgo-- * 60_000);
    utimesSync(join(data, name), old, old);
  };
  Object.keys(files).forEach(age);

  const single = await fingerprintInput(store, join(data, 'a.csv'), workspace);
  assert.deepEqual(single, { path: 'data/a.csv', fingerprint: sha(files['a.csv']!), size: 8, files: 1, hashedFiles: 1 });

  const expected = sha(
    ['a.csv', 'b.csv', 'nested/c.txt'].map((name) => `${name}\0${Buffer.byteLength(files[name]!)}\0${sha(files[name]!)}\n`).join(''),
  );
  const first = await fingerprintInput(store, data, workspace);
  assert.deepEqual(first, { path: 'data', fingerprint: expected, size: 21, files: 3, hashedFiles: 2 }, 'a.csv came from the cache already');

  const again = await fingerprintInput(store, data, workspace);
  assert.equal(again.fingerprint, expected);
  assert.equal(again.hashedFiles, 0, 'nothing unchanged is read twice');

  writeFileSync(join(data, 'b.csv'), 'x,y\n9,9\n');
  age('b.csv');
  const changed = await fingerprintInput(store, data, workspace);
  assert.equal(changed.hashedFiles, 1);
  assert.notEqual(changed.fingerprint, expected);

  renameSync(join(data, 'nested', 'c.txt'), join(data, 'nested', 'd.txt'));
  const renamed = await fingerprintInput(store, data, workspace);
  assert.notEqual(renamed.fingerprint, changed.fingerprint, 'a renamed file changes the folder digest');

  writeFileSync(join(data, 'fresh.csv'), 'new');
  await fingerprintInput(store, data, workspace);
  assert.equal((await fingerprintInput(store, data, workspace)).hashedFiles, 1, 'a file modified just now is hashed again');

  assert.equal(displayPath('/elsewhere/x.csv', workspace), '/elsewhere/x.csv');
});

test('environment: host facts, and the Python version and packages of an interpreter', async () => {
  const system = systemEnvironment();
  assert.equal(system.node, process.version);
  assert.ok((system.cpu as { count: number }).count >= 1);
  const python = await pythonEnvironment(PY);
  assert.match(python!.version, /^3\.\d+\.\d+/);
  assert.ok(python!.packages && Object.keys(python!.packages).length > 0, 'installed packages are listed');
  assert.equal(await pythonEnvironment('no-such-python-xyz'), undefined);
});

test("Runboard's own records never make the code state dirty; its config files do", async () => {
  const repo = tempDir();
  const commit = gitRepo(repo, { 'train.py': 'print(1)\n' });
  // A workspace whose .runboard/ predates its .gitignore: the snapshot filters by itself.
  mkdirSync(join(repo, '.runboard', 'runs', '1'), { recursive: true });
  writeFileSync(join(repo, '.runboard', 'runboard.db'), 'db');
  writeFileSync(join(repo, '.runboard', 'runs', '1', 'stdout.log'), 'epoch=1 loss=0.5\n');
  assert.deepEqual(await captureCodeState(repo), { commit, branch: 'main', dirty: false, patch: null, patchTruncated: false });
  writeFileSync(join(repo, '.runboard', 'profiles.json'), '{"profiles": {}}\n');
  const state = await captureCodeState(repo);
  assert.equal(state.dirty, true);
  assert.match(state.patch!, /^diff --git a\/\.runboard\/profiles\.json/);
  assert.doesNotMatch(state.patch!, /stdout\.log|runboard\.db/);
});

test('a new database writes a .gitignore that keeps the records out of git and the profiles in', () => {
  const repo = tempDir();
  gitRepo(repo, { 'train.py': 'print(1)\n' });
  const store = Store.open(join(repo, '.runboard', 'runboard.db'));
  store.close();
  writeFileSync(join(repo, '.runboard', 'profiles.json'), '{}');
  const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(untracked, ['.runboard/.gitignore', '.runboard/profiles.json']);
});
