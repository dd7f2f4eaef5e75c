import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { main } from '../../src/cli/main.ts';
import { lineage } from '../../src/core/registry/lineage.ts';
import { GateError, IdenticalVersionError, Registry, sha256File } from '../../src/core/registry/registry.ts';
import { tempDir, tempStore } from './helpers.ts';
import { COMMIT, recordRun } from './registryFixtures.ts';

/** A workspace with one finished run whose output folder holds model.pkl (arbitrary bytes: the registry does not load models). */
function setup(options: { profile?: string; metrics?: Record<string, number> } = {}) {
  const { store, dbPath, workspace } = tempStore();
  const model = join(workspace, 'model.bin');
  writeFileSync(model, 'not really a model, but bytes to hash');
  const data = join(workspace, 'train.csv');
  writeFileSync(data, '1,2,3\n4,5,6\n');
  const run = recordRun(store, workspace, { model, data, name: 'baseline', profile: options.profile, metrics: options.metrics ?? { accuracy: 0.93, loss: 0.2 } });
  return { store, dbPath, workspace, run, registry: new Registry(store), data };
}

function writeProfiles(workspace: string, gates: string[]) {
  const file = join(workspace, '.runboard', 'profiles.json');
  writeFileSync(file, JSON.stringify({ profiles: { train: { command: ['python3', 'train.py'], gates } } }));
}

test('registering a run artifact: numbered versions, a linked copy checked by sha256, a snapshot and a lineage edge', () => {
  const { store, workspace, run, registry, data } = setup();
  const changes: string[] = [];
  store.onDidChange((c) => changes.push(...c.models));
  const v1 = registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl' });
  const v2 = registry.register({ name: 'churn', run: String(run.name), artifact: './model.pkl', allowIdentical: true });
  const other = registry.register({ name: 'fraud.v2_x-1', run: run.id, artifact: 'model.pkl' });
  assert.deepEqual([v1.version, v2.version, other.version], [1, 2, 1]);
  assert.equal(v1.storedPath, join(workspace, '.runboard', 'models', 'churn', '1', 'model.pkl'));
  assert.equal(v2.storedPath, join(workspace, '.runboard', 'models', 'churn', '2', 'model.pkl'));
  const source = join(run.runDir!, 'model.pkl');
  assert.equal(v1.sha256, sha256File(source));
  assert.equal(sha256File(v1.storedPath), v1.sha256);
  assert.equal(statSync(v1.storedPath).ino, statSync(source).ino, 'same filesystem: a hard link, not a second copy');
  assert.equal(v1.noLineage, false);
  assert.equal(v1.runId, run.id);
  assert.equal(v1.forced, null);

  const s = v1.snapshot;
  assert.equal(s.run?.id, run.id);
  assert.deepEqual(s.artifact, { path: 'model.pkl', recorded: true });
  assert.equal(s.metrics?.accuracy?.last, 0.93);
  assert.deepEqual(s.inputs, [{ path: 'data/train.csv', fingerprint: sha256File(data), size: statSync(data).size }]);
  assert.equal(s.code?.commit, COMMIT);
  assert.match(s.code?.patch ?? '', /C = 1\.0/);

  assert.deepEqual(store.downstream('run', run.id).filter((e) => e.relation === 'produced').map((e) => e.dstId).sort(), [v1.id, v2.id, other.id].sort());
  assert.deepEqual(changes, ['churn', 'churn', 'fraud.v2_x-1'], 'each registration announces its model once');
  assert.deepEqual(registry.models().map((m) => [m.name, m.versions, m.latest]), [['churn', 2, 2], ['fraud.v2_x-1', 1, 1]]);
  assert.deepEqual(registry.list('churn').map((v) => v.version), [2, 1]);
});

test('a model file from outside any run registers with no_lineage and a note saying why', () => {
  const { store, workspace, registry } = setup();
  const outside = tempDir();
  const file = join(outside, 'downloaded.onnx');
  writeFileSync(file, 'onnx bytes');
  const v = registry.register({ name: 'imported', file });
  assert.equal(v.noLineage, true);
  assert.equal(v.runId, null);
  assert.match(v.snapshot.note ?? '', /not from a run: no metrics, inputs, code/);
  assert.equal(store.upstream('model_version', v.id).length, 0);
  assert.equal(v.storedPath, join(workspace, '.runboard', 'models', 'imported', '1', 'downloaded.onnx'));
  assert.equal(sha256File(v.storedPath), v.sha256);
  mkdirSync(join(workspace, 'models'));
  writeFileSync(join(workspace, 'models', 'm.pkl'), 'x');
  assert.equal(registry.register({ name: 'imported', file: 'models/../models/m.pkl', cwd: workspace }).version, 2, '".." that stays inside is fine');
});

test('a model identical to the newest version is refused unless asked for; identical to an older one, or under another name, is a new version', () => {
  const { workspace, run, registry } = setup();
  const v1 = registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl' });
  assert.throws(
    () => registry.register({ name: 'churn', file: join(run.runDir!, 'model.pkl') }),
    (err: Error) => err instanceof IdenticalVersionError && err.latest.version === v1.version && /churn@1 already holds this very model/.test(err.message),
  );
  assert.deepEqual(registry.list('churn').map((v) => v.version), [1], 'nothing added, no folder left');
  assert.deepEqual(readdirSync(join(workspace, '.runboard', 'models', 'churn')), ['1']);
  assert.equal(registry.register({ name: 'other', run: run.id, artifact: 'model.pkl' }).version, 1);
  const changed = join(workspace, 'changed.bin');
  writeFileSync(changed, 'other bytes');
  assert.equal(registry.register({ name: 'churn', file: changed }).version, 2);
  assert.equal(registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl' }).version, 3, 'identical to version 1, not to the newest');
  assert.equal(registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl', allowIdentical: true }).version, 4);
});

test('names and aliases are validated; paths that climb out of the run folder or the workspace are rejected', () => {
  const { run, registry, workspace } = setup();
  for (const name of ['../evil', 'a/b', 'a\\b', 'a..b', '..', '.hidden', '', 'x'.repeat(129), 'sp ace', 'semi;colon']) {
    assert.throws(() => registry.register({ name, run: run.id, artifact: 'model.pkl' }), /Invalid model name/, name);
  }
  for (const alias of ['3', 'latest', '../x', 'a/b']) {
    assert.throws(() => registry.register({ name: 'ok', run: run.id, artifact: 'model.pkl', aliases: [alias] }), /Invalid alias/, alias);
  }
  assert.throws(() => registry.register({ name: 'ok', run: run.id, artifact: '../../../model.bin' }), /leaves the run's folder/);
  assert.throws(() => registry.register({ name: 'ok', run: run.id, artifact: 'sub/../../other.pkl' }), /leaves the run's folder/);
  assert.throws(() => registry.register({ name: 'ok', run: run.id, artifact: join(run.runDir!, 'model.pkl') }), /must be relative/);
  symlinkSync(join(workspace, 'model.bin'), join(run.runDir!, 'link.pkl'));
  assert.throws(() => registry.register({ name: 'ok', run: run.id, artifact: 'link.pkl' }), /link to a file outside/);
  assert.throws(() => registry.register({ name: 'ok', file: '../../etc/passwd', cwd: workspace }), /climbs out of the workspace/);
  assert.throws(() => registry.register({ name: 'ok', run: run.id, artifact: 'missing.pkl' }), /has no file "missing.pkl"/);
  assert.throws(() => registry.resolve('../x@1'), /Invalid model name/);
  assert.equal(registry.list().length, 0, 'nothing was registered by the refused attempts');
});

test('an artifact that changed since the run recorded it is refused', () => {
  const { run, registry } = setup();
  writeFileSync(join(run.runDir!, 'model.pkl'), 'overwritten after the run');
  assert.throws(() => registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' }), /changed since the run recorded it/);
});

test('a stored copy rewritten in place (through the hard link) is caught before it is served', () => {
  const { run, registry } = setup();
  const v = registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
  assert.equal(registry.verifiedPath(v), v.storedPath);
  writeFileSync(join(run.runDir!, 'model.pkl'), 'retrained in place');
  assert.throws(() => registry.verifiedPath(v), /changed since registration/);
});

test('aliases move between versions, every move is recorded, and references resolve', () => {
  const { run, registry } = setup();
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', aliases: ['staging'] });
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', allowIdentical: true });
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', allowIdentical: true });
  assert.deepEqual(registry.setAlias('m', 'champion', 1), { ...registry.aliasMoves('m')[0]!, fromVersion: null, toVersion: 1 });
  assert.equal(registry.setAlias('m', 'champion', 1), null, 'pointing an alias where it already points is no move');
  const move = registry.setAlias('m', 'champion', 3)!;
  assert.equal(move.fromVersion, 1);
  registry.setAlias('m', 'staging', 2);
  assert.deepEqual(
    registry.aliasMoves('m').map((m) => [m.alias, m.fromVersion, m.toVersion]),
    [['staging', 1, 2], ['champion', 1, 3], ['champion', null, 1], ['staging', null, 1]],
  );
  assert.deepEqual(registry.get('m', 3)!.aliases, ['champion']);
  assert.deepEqual(registry.models()[0]!.aliases, { champion: 3, staging: 2 });
  assert.equal(registry.resolve('m@champion').version, 3);
  assert.equal(registry.resolve('m@2').version, 2);
  assert.equal(registry.resolve('m').version, 3);
  assert.equal(registry.resolve('m@latest').version, 3);
  assert.throws(() => registry.resolve('m@prod'), /no alias "prod".*aliases: champion, staging/);
  assert.throws(() => registry.resolve('m@9'), /no version "9"/);
  assert.throws(() => registry.resolve('nope'), /No model "nope"/);
  assert.throws(() => registry.setAlias('m', 'champion', 7), /has no version 7/);
});

test("the run's profile gates refuse a registration, naming the failing gate; force registers and records it", () => {
  const { run, registry, workspace, store } = setup({ profile: 'train', metrics: { accuracy: 0.71, loss: 0.9 } });
  writeProfiles(workspace, ['accuracy>=0.9', 'min(loss)<=1.0']);
  const refused = (() => {
    try {
      registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
    } catch (err) {
      return err as GateError;
    }
    assert.fail('registration was not refused');
  })();
  assert.ok(refused instanceof GateError);
  assert.match(refused.message, /accuracy>=0\.9: accuracy is 0\.71, which fails >= 0\.9/);
  assert.doesNotMatch(refused.message, /min\(loss\)/, 'only the failing gate is named');
  assert.equal(registry.list().length, 0);

  const v = registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', force: true });
  assert.deepEqual(v.forced, ['accuracy>=0.9']);
  assert.deepEqual(v.snapshot.gates, [
    { condition: 'accuracy>=0.9', ok: false, actual: 0.71 },
    { condition: 'min(loss)<=1.0', ok: true, actual: 0.9 },
  ]);
  const passing = recordRun(store, workspace, { model: join(workspace, 'model.bin'), profile: 'train', metrics: { accuracy: 0.95, loss: 0.1 } });
  assert.equal(registry.register({ name: 'm', run: passing.id, artifact: 'model.pkl', allowIdentical: true }).forced, null);
});

test('CLI: models register, list, alias, and lineage of a run and a model version', async () => {
  const { workspace, run, data } = setup();
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, workspace, { ...process.env, RUNBOARD_DB: '' });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const registered = await cli('models', 'register', String(run.id), 'model.pkl', '--name', 'churn', '--alias', 'champion', '--json');
  assert.equal(registered.code, 0, registered.err);
  assert.deepEqual(JSON.parse(registered.out).aliases, ['champion']);
  const identical = await cli('models', 'register', 'baseline', 'model.pkl', '--name', 'churn');
  assert.equal(identical.code, 2, 'the same model again is refused');
  assert.match(identical.err, /churn@1 already holds this very model \(sha256 [0-9a-f]{12}…\): registering it would add an identical version\. Use --allow-identical/);
  assert.match((await cli('models', 'register', 'baseline', 'model.pkl', '--name', 'churn', '--allow-identical')).out, /Registered churn@2 from run 1/);
  assert.equal((await cli('models', 'register', '--file', 'model.bin', '--name', 'plain')).code, 0);
  const bad = await cli('models', 'register', String(run.id), '../../x', '--name', 'churn');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /leaves the run's folder/);

  assert.match((await cli('models', 'alias', 'churn', '2', 'champion')).out, /churn@champion: version 1 → version 2/);
  const listed = JSON.parse((await cli('models', '--json')).out) as { name: string; version: number; aliases: string[]; noLineage: boolean }[];
  assert.deepEqual(listed.map((v) => [v.name, v.version, v.aliases, v.noLineage]), [['churn', 2, ['champion'], false], ['churn', 1, [], false], ['plain', 1, [], true]]);
  assert.match((await cli('models')).out, /plain\s+1\s+-.*no lineage/);

  const fromModel = JSON.parse((await cli('lineage', 'churn@champion', '--json')).out);
  assert.equal(fromModel.chain.run.id, run.id);
  assert.equal(fromModel.chain.commit.commit, COMMIT);
  assert.equal(fromModel.chain.inputs[0].fingerprint, sha256File(data));
  const fromRun = await cli('lineage', 'baseline');
  assert.match(fromRun.out, /← input data\/train\.csv/);
  assert.match(fromRun.out, /Made from it:[\s\S]*produced → model churn@2/);
});

test('lineage of a model version whose run was deleted falls back to the registration snapshot', () => {
  const { store, run, registry, data } = setup();
  const v = registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
  store.deleteRun(run.id);
  const l = lineage(store, { kind: 'model_version', id: v.id });
  assert.deepEqual(l.chain.run, { id: run.id, name: 'baseline', deleted: true });
  assert.equal(l.chain.inputs[0]?.fingerprint, sha256File(data));
  assert.equal(l.chain.commit?.commit, COMMIT);
});

test('registering copies and hashes the model before taking the write lock: another connection writes during the copy', () => {
  const { store, dbPath, run, workspace } = setup();
  const big = join(run.runDir!, 'big.pt');
  writeFileSync(big, randomBytes(16 << 20));
  let wroteDuringCopy = false;
  const registry = new Registry(store, workspace, (from, to) => {
    copyFileSync(from, to);
    // Another process (a capture flushing points) with no patience for a lock: it must not wait on this one.
    const other = new Database(dbPath, { timeout: 0 });
    try {
      other.prepare('INSERT INTO experiments (name, created_at) VALUES (?, ?)').run('written during the copy', Date.now());
      wroteDuringCopy = true;
    } finally {
      other.close();
    }
  });
  const v = registry.register({ name: 'big', run: run.id, artifact: 'big.pt' });
  assert.ok(wroteDuringCopy, 'the copy ran, with no write lock held');
  assert.equal(store.experiments().filter((e) => e.name === 'written during the copy').length, 1);
  assert.equal(sha256File(v.storedPath), sha256File(big));
  assert.notEqual(statSync(v.storedPath).ino, statSync(big).ino, 'a copy, as the hook made it');
  assert.deepEqual(readdirSync(join(workspace, '.runboard', 'models', 'big')), ['1'], 'the staged copy was moved into place');
});

test('a copy that does not match its source registers nothing and leaves no file behind', () => {
  const { store, run, workspace } = setup();
  const registry = new Registry(store, workspace, (_from, to) => writeFileSync(to, 'truncated'));
  assert.throws(() => registry.register({ name: 'churn', run: run.id, artifact: 'model.pkl' }), /copy of .* does not match it/);
  assert.deepEqual(registry.list('churn'), []);
  assert.deepEqual(readdirSync(join(workspace, '.runboard', 'models', 'churn')), []);
});

test('deploying a model by name alone takes its champion, else its latest version', () => {
  const { run, registry } = setup();
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl' });
  registry.register({ name: 'm', run: run.id, artifact: 'model.pkl', allowIdentical: true });
  assert.equal(registry.resolveForDeploy('m').version, 2, 'no champion: the latest');
  registry.setAlias('m', 'champion', 1);
  assert.equal(registry.resolveForDeploy('m').version, 1);
  assert.equal(registry.resolveForDeploy('m@2').version, 2, 'an explicit version wins');
  assert.equal(registry.resolve('m').version, 2, 'plain resolution still means the latest');
});
