// MLflow's registry and experiment writes against a real `runboard serve`: the real MLflow 2.12.2
// server's answers replayed, deployed versions protected, alias removals recorded, renames that
// carry files and history, and the experiment lifecycle through the npm `mlflow` client.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { Registry } from '../../src/core/registry/registry.ts';
import { loadMigrations, openDb } from '../../src/core/store/db.ts';
import { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { tempDir } from './helpers.ts';
import { artifactUrl, serveTemp } from './mlflowArtifactsHarness.ts';
import { readSamples, shape, type Sample } from './mlflowRegistryWireHarness.ts';

const API = '/api/2.0/mlflow';
type Call = Awaited<ReturnType<typeof serveTemp>>['call'];

/** A run of `experiment` with a model file uploaded as MLflow's client uploads one. */
async function runWithModel(store: Store, call: Call, experiment = 'Default'): Promise<Run> {
  const run = store.createRun({ experiment, name: 'trained' });
  assert.equal((await call('PUT', artifactUrl(run, 'model.pkl'), 'model bytes')).status, 200);
  return store.run(run.id)!;
}

const sourceOf = (run: Run): string => `mlflow-artifacts:/${run.experiment === 'Default' ? '0' : run.experimentId}/${run.mlflowId}/artifacts/model.pkl`;

/** A model with `count` versions of `run`'s model file, made through MLflow's endpoints. */
async function modelWithVersions(call: Call, run: Run, name: string, count: number): Promise<void> {
  assert.equal((await call('POST', `${API}/registered-models/create`, { name })).status, 200);
  for (let i = 0; i < count; i++) {
    const made = await call('POST', `${API}/model-versions/create`, { name, source: sourceOf(run), run_id: run.mlflowId });
    assert.equal(made.status, 200, made.text);
  }
}

/** A deployment of the version in the store, as `runboard deploy` records one, with the status given. */
function deploy(store: Store, versionId: number, status: string): number {
  const id = store.deployments.create({ modelVersionId: versionId, target: 'local', port: null, config: '{}', forced: null, replacesId: null, createdAt: Date.now() }, () => '/nowhere');
  store.deployments.setStatus(id, status);
  return id;
}

type Deviation = { status: number; error_code: string; message: string } | ((recorded: Record<string, unknown>) => Record<string, unknown>);

const messageOf = (text: string | null): string => (JSON.parse(text ?? '{}') as { message?: string }).message ?? '';

test('recorded registry and experiment writes of the real MLflow 2.12.2 replay with the same status, error and JSON shape', async () => {
  const { store, call } = await serveTemp();
  const samples = readSamples('registry_writes_v2.12.2.jsonl');
  // The recording's setup, not recorded: experiment "1" with run d17a… and its model.pkl.
  const run = await runWithModel(store, call, 'wr-exp');
  const runs = new Map([['d17a49d259c64a4bb409c120149e0eaa', run.mlflowId]]);
  const experiments = new Map([['1', String(run.experimentId)]]);
  const swapRuns = (text: string): string => [...runs].reduce((out, [recorded, ours]) => out.replaceAll(recorded, ours), text);
  const swapExperiments = (text: string): string =>
    text.replace(/(experiment |id=|mlflow-artifacts:\/)(\d+)/g, (whole, lead: string, id: string) => (experiments.has(id) ? `${lead}${experiments.get(id)}` : whole));
  const swap = (text: string): string => swapExperiments(swapRuns(text));
  const swapFields = (fields: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, k === 'experiment_id' ? (experiments.get(String(v)) ?? v) : typeof v === 'string' ? swapRuns(swapExperiments(v)) : v]));

  // Where Runboard answers otherwise, and why: MLflow 2.12.2 leaves an alias on a deleted version
  // (its delete compares version "2" with 2), then cannot find the version the alias names and
  // still lists the alias after a rename; Runboard removes the alias with the version.
  const deviationOf = (s: Sample): Deviation | undefined =>
    s.method === 'GET' && s.path.endsWith('/registered-models/alias')
      ? { status: 400, error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias champion not found.' }
      : s.path.endsWith('/registered-models/rename') && s.status === 200
        ? (recorded) => ({ registered_model: { ...(recorded.registered_model as object), aliases: undefined } })
        : undefined;
  assert.equal(samples.filter((s) => deviationOf(s) !== undefined).length, 2);

  for (const [index, sample] of samples.entries()) {
    const query = sample.query ? `?${new URLSearchParams(Object.entries(swapFields(Object.fromEntries(new URLSearchParams(sample.query)))) as [string, string][])}` : '';
    const body = sample.req_body === null ? undefined : swapFields(JSON.parse(sample.req_body) as Record<string, unknown>);
    const reply = await call(sample.method, `${sample.path}${query}`, body);
    const what = `#${index} ${sample.method} ${sample.path} ${sample.req_body ?? sample.query ?? ''}`;
    const recorded = JSON.parse(sample.resp_body!) as Record<string, unknown>;
    const deviation = deviationOf(sample);
    if (typeof deviation === 'object') {
      assert.deepEqual([reply.status, reply.json.error_code, reply.json.message], [deviation.status, deviation.error_code, deviation.message], what);
      continue;
    }
    assert.equal(reply.status, sample.status, `${what}: ${reply.text}`);
    if (sample.status !== 200) {
      assert.equal(reply.json.error_code, recorded.error_code, what);
      // MLflow appends SQLAlchemy's error to some messages, or sends it alone: the sentence before it must match.
      const message = messageOf(sample.resp_body);
      if (!message.startsWith('(sqlite3.')) assert.equal(reply.json.message, swap(message.split(' Error: ')[0]!), what);
      continue;
    }
    const expected = JSON.parse(JSON.stringify(typeof deviation === 'function' ? deviation(recorded) : recorded)) as unknown;
    // tracking.ts answers runs/create with `inputs: {}`, which MLflow leaves out there (not this file's subject).
    const ours = sample.path.endsWith('/runs/create') ? { ...reply.json, run: { ...(reply.json.run as object), inputs: undefined } } : reply.json;
    assert.deepEqual(shape(JSON.parse(JSON.stringify(ours))), shape(expected), what);
    // What the recording created, so later requests name Runboard's ids.
    if (sample.path.endsWith('/experiments/create')) experiments.set(String(recorded.experiment_id), String(reply.json.experiment_id));
    if (sample.path.endsWith('/runs/create')) {
      runs.set((recorded.run as { info: { run_id: string } }).info.run_id, (reply.json.run as { info: { run_id: string } }).info.run_id);
    }
  }
  assert.equal(runs.size, 2, 'the second run was created and mapped');
});

test('a deployed version is neither deleted nor renamed away: 409 with the deployment named, nothing changed; once stopped it is deleted but kept for its history', async () => {
  const { store, workspace, call } = await serveTemp();
  const run = await runWithModel(store, call);
  await modelWithVersions(call, run, 'iris', 2);
  const registry = new Registry(store);
  const [v1, v2] = [registry.get('iris', 1)!, registry.get('iris', 2)!];
  const deployment = deploy(store, v1.id, 'running');

  for (const [method, path, fields] of [
    ['DELETE', 'model-versions/delete', { name: 'iris', version: '1' }],
    ['DELETE', 'registered-models/delete', { name: 'iris' }],
    ['POST', 'registered-models/rename', { name: 'iris', new_name: 'iris-v2' }],
  ] as const) {
    const refused = await call(method, `${API}/${path}`, fields);
    assert.deepEqual([refused.status, refused.json.error_code], [409, 'RESOURCE_CONFLICT'], path);
    assert.match(refused.json.message!, new RegExp(`deployment #${deployment} \\(iris@1, local, running\\) still serves it; stop it first`));
  }
  assert.deepEqual(registry.list('iris').map((v) => v.version), [2, 1], 'both versions are still there');
  assert.ok(existsSync(v1.storedPath));

  // Never deployed: deleted at once, its stored copy removed, its number not given again.
  assert.equal((await call('DELETE', `${API}/model-versions/delete`, { name: 'iris', version: '2' })).status, 200);
  assert.equal(existsSync(v2.storedPath), false, "the registry's copy of a version no deployment used is removed");
  const gone = await call('GET', `${API}/model-versions/get?name=iris&version=2`);
  assert.deepEqual([gone.status, gone.json.message], [404, 'Model Version (name=iris, version=2) not found']);
  const next = await call('POST', `${API}/model-versions/create`, { name: 'iris', source: sourceOf(run), run_id: run.mlflowId });
  assert.equal((next.json.model_version as { version: string }).version, '3', 'a deleted number is never reused, as in MLflow');

  store.deployments.markStopped(deployment);
  assert.equal((await call('DELETE', `${API}/model-versions/delete`, { name: 'iris', version: '1' })).status, 200);
  assert.deepEqual(registry.list('iris').map((v) => v.version), [3]);
  assert.equal(existsSync(v1.storedPath), true, 'a version a deployment used keeps its copy (the monitor reads the reference beside it)');
  const record = store.deployments.get(deployment)!;
  assert.deepEqual([record.model, record.version], ['iris', 1], 'the deployment still names the version it served');
  assert.equal(registry.byId(v1.id)!.deletedAt !== null, true);
  assert.ok(store.downstream('run', run.id).some((e) => e.dstKind === 'model_version' && e.dstId === v1.id), 'its lineage stays');
  assert.ok(!existsSync(join(workspace, '.runboard', 'models', 'iris', '2')));

  // A rollback from version 3 finds no deleted version to go back to.
  const current = deploy(store, registry.get('iris', 3)!.id, 'running');
  assert.equal(store.deployments.previousVersion('iris', 'local', current, 3), undefined);
  assert.equal(store.models.versionBelow('iris', 3), undefined);
});

test('removing an alias, by hand or with its version, is recorded as a move to no version', async () => {
  const { store, call } = await serveTemp();
  const run = await runWithModel(store, call);
  await modelWithVersions(call, run, 'iris', 2);
  const registry = new Registry(store);
  registry.setAlias('iris', 'champion', 1);
  registry.setAlias('iris', 'challenger', 2);
  assert.equal((await call('DELETE', `${API}/registered-models/alias`, { name: 'iris', alias: 'champion' })).status, 200);
  assert.equal((await call('DELETE', `${API}/model-versions/delete`, { name: 'iris', version: '2' })).status, 200);
  const moves = registry.aliasMoves('iris').map(({ alias, fromVersion, toVersion }) => [alias, fromVersion, toVersion]);
  assert.deepEqual(moves, [['challenger', 2, null], ['champion', 1, null], ['challenger', null, 2], ['champion', null, 1]]);
  assert.deepEqual(registry.models().find((m) => m.name === 'iris')?.aliases, {});
  const model = await call('GET', `${API}/registered-models/get?name=iris`);
  assert.equal((model.json.registered_model as { aliases?: unknown }).aliases, undefined);
});

test('a rename carries versions, files, aliases, their history and tags; the old name is free, a name held by deleted versions is refused', async () => {
  const { store, workspace, call } = await serveTemp();
  const run = await runWithModel(store, call);
  await modelWithVersions(call, run, 'iris', 2);
  const registry = new Registry(store);
  registry.setAlias('iris', 'champion', 2);
  await call('POST', `${API}/registered-models/set-tag`, { name: 'iris', key: 'team', value: 'vision' });
  await call('POST', `${API}/model-versions/set-tag`, { name: 'iris', version: '2', key: 'validated', value: 'yes' });
  await call('PATCH', `${API}/model-versions/update`, { name: 'iris', version: '2', description: 'the good one' });
  await call('DELETE', `${API}/model-versions/delete`, { name: 'iris', version: '1' });

  const renamed = await call('POST', `${API}/registered-models/rename`, { name: 'iris', new_name: 'flowers' });
  assert.equal(renamed.status, 200, renamed.text);
  const model = renamed.json.registered_model as { name: string; tags: unknown; aliases: unknown };
  assert.deepEqual([model.name, model.tags, model.aliases], ['flowers', [{ key: 'team', value: 'vision' }], [{ alias: 'champion', version: '2' }]]);
  const v2 = registry.get('flowers', 2)!;
  assert.equal(v2.storedPath, join(workspace, '.runboard', 'models', 'flowers', '2', 'model.pkl'));
  assert.equal(readFileSync(registry.verifiedPath(v2), 'utf8'), 'model bytes');
  assert.deepEqual([v2.description, v2.tags, v2.aliases], ['the good one', { validated: 'yes' }, ['champion']]);
  assert.equal(existsSync(join(workspace, '.runboard', 'models', 'iris')), false);
  assert.deepEqual(registry.aliasMoves('flowers').map((m) => m.alias), ['champion'], 'the alias history moved along');
  assert.equal((await call('GET', `${API}/registered-models/get?name=iris`)).status, 404);

  // The old name is free: a new model there starts its own versions and leaves the renamed files alone.
  await modelWithVersions(call, run, 'iris', 1);
  assert.equal(registry.get('iris', 1)!.storedPath, join(workspace, '.runboard', 'models', 'iris', '1', 'model.pkl'));
  assert.equal(readFileSync(registry.verifiedPath(registry.get('flowers', 2)!), 'utf8'), 'model bytes');

  // Deleting keeps the numbers of a model's versions taken: its name cannot be given to another.
  assert.equal((await call('DELETE', `${API}/registered-models/delete`, { name: 'flowers' })).status, 200);
  assert.equal((await call('GET', `${API}/registered-models/get?name=flowers`)).status, 404);
  await modelWithVersions(call, run, 'flowers', 1);
  assert.deepEqual(registry.list('flowers').map((v) => v.version), [3], 'created again, it goes on from the last number');
  await call('DELETE', `${API}/registered-models/delete`, { name: 'flowers' });
  const held = await call('POST', `${API}/registered-models/rename`, { name: 'iris', new_name: 'flowers' });
  assert.deepEqual([held.status, held.json.error_code], [400, 'INVALID_PARAMETER_VALUE']);
  assert.match(held.json.message!, /The name flowers is still held by the deleted versions 1, 2, 3 of a model of that name/);
  const taken = await call('POST', `${API}/registered-models/create`, { name: 'other' }).then(() => call('POST', `${API}/registered-models/rename`, { name: 'iris', new_name: 'other' }));
  assert.deepEqual([taken.status, taken.json.error_code, taken.json.message], [400, 'RESOURCE_ALREADY_EXISTS', 'Registered Model (name=other) already exists.']);
});

test('stages as MLflow keeps them: transition, archive the others, latest per stage', async () => {
  const { store, call } = await serveTemp();
  const run = await runWithModel(store, call);
  await modelWithVersions(call, run, 'iris', 3);
  const stage = (version: string, to: string, archive = false) =>
    call('POST', `${API}/model-versions/transition-stage`, { name: 'iris', version, stage: to, archive_existing_versions: archive });
  assert.equal(((await stage('1', 'production')).json.model_version as { current_stage: string }).current_stage, 'Production');
  await stage('2', 'Production', true);
  const latest = await call('POST', `${API}/registered-models/get-latest-versions`, { name: 'iris' });
  assert.deepEqual((latest.json.model_versions as { version: string; current_stage: string }[]).map((v) => [v.version, v.current_stage]), [['1', 'Archived'], ['2', 'Production'], ['3', 'None']]);
  const bad = await stage('3', 'Live');
  assert.deepEqual([bad.status, bad.json.message], [400, 'Invalid Model Version stage: Live. Value must be one of None, Staging, Production, Archived.']);
});

interface Experiments {
  create(a: object): Promise<{ experiment_id: string }>;
  get(a: object): Promise<{ experiment: { name: string; lifecycle_stage: string } }>;
  delete(a: object): Promise<unknown>;
  restore(a: object): Promise<unknown>;
  update(a: object): Promise<unknown>;
}
const MLflow = createRequire(import.meta.url)('mlflow') as new (options: { endpoint: string; headers?: Record<string, string> }) => { Experiments: Experiments };

// The client prints every request body it sends; keep the test output readable.
const log = console.log;
before(() => (console.log = () => {}));
after(() => (console.log = log));

test('the npm client deletes, restores and renames an experiment; a deleted one takes no runs or writes, and Default is kept', async () => {
  const { store, server, call } = await serveTemp();
  const client = new MLflow({ endpoint: server.url, headers: { Authorization: `Bearer ${server.token}` } }).Experiments;
  const { experiment_id } = await client.create({ name: 'sweep' });
  const run = store.createRun({ experiment: 'sweep', name: 'r1' });
  await client.delete({ experiment_id });
  assert.equal((await client.get({ experiment_id })).experiment.lifecycle_stage, 'deleted');
  assert.notEqual(store.run(run.id)!.deletedAt, null, 'its runs are deleted with it');
  assert.equal(store.experiments().some((e) => e.name === 'sweep'), false, 'the experiments view no longer lists it');
  const write = await call('POST', `${API}/runs/log-metric`, { run_id: run.mlflowId, key: 'loss', value: 1, timestamp: 1, step: 0 });
  assert.deepEqual([write.status, write.json.message], [400, `The run ${run.mlflowId} must be in the 'active' state. Current state is deleted.`]);
  const created = await call('POST', `${API}/runs/create`, { experiment_id });
  assert.deepEqual([created.status, created.json.message], [400, `The experiment ${experiment_id} must be in the 'active' state. Current state is deleted.`]);
  const renameDeleted = await call('POST', `${API}/experiments/update`, { experiment_id, new_name: 'x' });
  assert.deepEqual([renameDeleted.status, renameDeleted.json.error_code], [500, 'INVALID_STATE']);

  await client.restore({ experiment_id });
  assert.equal(store.run(run.id)!.deletedAt, null, 'restoring brings its runs back');
  await client.update({ experiment_id, new_name: 'sweep-2' });
  assert.equal((await client.get({ experiment_id })).experiment.name, 'sweep-2');
  assert.equal(store.run(run.id)!.experiment, 'sweep-2');

  const keepDefault = await call('POST', `${API}/experiments/delete`, { experiment_id: '0' });
  assert.deepEqual([keepDefault.status, keepDefault.json.message], [400, "Cannot delete the default experiment '0'. This is an internally reserved experiment."]);
  const toDefault = await call('POST', `${API}/experiments/update`, { experiment_id, new_name: 'Default' });
  assert.deepEqual([toDefault.status, toDefault.json.error_code], [400, 'BAD_REQUEST']);
});

test('schema 8 keeps every alias move of a schema-7 database, ids included, and lets a removal be recorded', () => {
  const file = join(tempDir(), 'runboard.db');
  openDb(file, { migrations: loadMigrations().slice(0, 7) }).close();
  const old = new Database(file);
  old.prepare('INSERT INTO alias_moves (id, name, alias, from_version, to_version, moved_at) VALUES (41, ?, ?, NULL, 3, 1000), (42, ?, ?, 3, 4, 2000)').run('m', 'champion', 'm', 'champion');
  old.close();
  const db = openDb(file);
  assert.deepEqual(db.prepare('SELECT id, from_version, to_version, moved_at FROM alias_moves ORDER BY id').raw().all(), [[41, null, 3, 1000], [42, 3, 4, 2000]]);
  db.prepare('INSERT INTO alias_moves (name, alias, from_version, to_version, moved_at) VALUES (?, ?, 4, NULL, 3000)').run('m', 'champion');
  db.close();
});

test("another process's deletions and renames reach this one's change check: the model renamed, the experiment deleted", async () => {
  const { store, call } = await serveTemp();
  const run = await runWithModel(store, call);
  await modelWithVersions(call, run, 'iris', 2);
  const watcher = Store.open(store.file);
  after(() => watcher.close());
  let token = watcher.changesSince(undefined).token;
  await call('DELETE', `${API}/model-versions/delete`, { name: 'iris', version: '2' });
  let seen = watcher.changesSince(token);
  assert.deepEqual([seen.change.models, seen.change.everything], [['iris'], undefined], 'a version deleted without aliases');
  token = seen.token;
  await call('POST', `${API}/registered-models/rename`, { name: 'iris', new_name: 'flowers' });
  seen = watcher.changesSince(token);
  assert.deepEqual(seen.change.models, ['flowers']);
  token = seen.token;
  const { json } = await call('POST', `${API}/experiments/create`, { name: 'sweep' });
  token = watcher.changesSince(token).token;
  await call('POST', `${API}/experiments/delete`, { experiment_id: json.experiment_id });
  assert.equal(watcher.changesSince(token).change.everything, true, 'an experiment deleted changes the list');
});
