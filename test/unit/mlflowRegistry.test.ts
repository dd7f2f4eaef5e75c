import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MLflowBase } from 'mlflow/lib/mlflow.js';
import { Registry } from '../../src/core/registry/registry.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { artifactUrl, serveTemp } from './mlflowArtifactsHarness.ts';

/** The registry calls the package lacks, made the way its own Runs and Artifacts classes make theirs. */
class ModelRegistryClient extends MLflowBase {
  send(method: string, path: string, params: Record<string, string>): Promise<unknown> {
    return this.req(method, path, params);
  }
}

type Call = Awaited<ReturnType<typeof serveTemp>>['call'];

/** A run with an MLflow model folder uploaded the way `mlflow.sklearn.log_model` uploads it. */
async function runWithModel(store: Store, call: Call): Promise<Run> {
  const run = store.createRun({ name: 'trained' });
  for (const [name, text] of [['MLmodel', 'flavors:\n  sklearn: {pickled_model: model.pkl}\n'], ['model.pkl', 'pickled'], ['conda.yaml', 'name: env\n']] as const) {
    assert.equal((await call('PUT', artifactUrl(run, `model/${name}`), text)).status, 200);
  }
  return store.run(run.id)!;
}

const source = (run: Run): string => `mlflow-artifacts:/0/${run.mlflowId}/artifacts/model`;

test('register_model\'s calls make a Runboard version: copied whole, lineage from the run, READY, aliases shared both ways', async () => {
  const { store, workspace, call } = await serveTemp();
  const run = await runWithModel(store, call);
  const created = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'iris' });
  assert.equal(created.status, 200);
  assert.deepEqual(Object.keys(created.json.registered_model as object).sort(), ['creation_timestamp', 'last_updated_timestamp', 'name']);
  const again = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'iris' });
  assert.deepEqual([again.status, again.json.error_code], [400, 'RESOURCE_ALREADY_EXISTS']);

  const made = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris', source: source(run), run_id: run.mlflowId });
  assert.equal(made.status, 200, made.text);
  const mv = made.json.model_version as Record<string, unknown>;
  assert.deepEqual(
    { ...mv, creation_timestamp: 0, last_updated_timestamp: 0 },
    { name: 'iris', version: '1', creation_timestamp: 0, last_updated_timestamp: 0, current_stage: 'None', description: '', source: source(run), run_id: run.mlflowId, status: 'READY', run_link: '' },
  );

  const registry = new Registry(store);
  const version = registry.get('iris', 1)!;
  assert.equal(version.storedPath, join(workspace, '.runboard', 'models', 'iris', '1', 'model'));
  assert.equal(readFileSync(join(version.storedPath, 'model.pkl'), 'utf8'), 'pickled');
  assert.equal(registry.verifiedPath(version), version.storedPath);
  assert.ok(store.downstream('run', run.id).some((e) => e.dstKind === 'model_version' && e.dstId === version.id && e.relation === 'produced'));

  assert.deepEqual((await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'iris', alias: 'champion', version: '1' })).json, {});
  assert.equal(registry.resolve('iris@champion').version, 1, "an MLflow alias is Runboard's alias");
  await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris', source: source(run), run_id: run.mlflowId });
  registry.setAlias('iris', 'challenger', 2);
  const byAlias = await call('GET', '/api/2.0/mlflow/registered-models/alias?name=iris&alias=challenger');
  assert.deepEqual([(byAlias.json.model_version as { version: string }).version, (byAlias.json.model_version as { aliases: string[] }).aliases], ['2', ['challenger']]);

  const got = await call('GET', '/api/2.0/mlflow/registered-models/get?name=iris');
  const model = got.json.registered_model as { latest_versions: { version: string }[]; aliases: unknown };
  assert.deepEqual(model.latest_versions.map((v) => v.version), ['2']);
  assert.deepEqual(model.aliases, [{ alias: 'champion', version: '1' }, { alias: 'challenger', version: '2' }].sort((a, b) => (a.alias < b.alias ? -1 : 1)));

  assert.deepEqual((await call('DELETE', '/api/2.0/mlflow/registered-models/alias', { name: 'iris', alias: 'champion' })).json, {});
  assert.throws(() => registry.resolve('iris@champion'), /no alias "champion"/);
  const gone = await call('GET', '/api/2.0/mlflow/registered-models/alias?name=iris&alias=champion');
  assert.deepEqual([gone.status, gone.json.message], [400, 'Registered model alias champion not found.']);
});

test('models:/ downloads come from the registry\'s copy: listed and read back even after the run\'s files change', async () => {
  const { store, call } = await serveTemp();
  const run = await runWithModel(store, call);
  await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'iris' });
  await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris', source: source(run) });
  const uri = (await call('GET', '/api/2.0/mlflow/model-versions/get-download-uri?name=iris&version=1')).json.artifact_uri as string;
  assert.equal(uri, 'mlflow-artifacts:/models/iris/1/model');
  await call('PUT', artifactUrl(run, 'model/model.pkl'), 'retrained since');

  const root = uri.slice('mlflow-artifacts:/'.length);
  const listed = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(root)}`);
  assert.deepEqual((listed.json.files as { path: string }[]).map((f) => f.path), ['MLmodel', 'conda.yaml', 'model.pkl']);
  assert.equal((await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${root}/model.pkl`)).text, 'pickled', 'the bytes registered, not the run\'s later ones');
  const write = await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/model.pkl`, 'tampered');
  assert.deepEqual([write.status, write.json.error_code], [400, 'INVALID_PARAMETER_VALUE']);
  assert.equal((await call('GET', '/api/2.0/mlflow-artifacts/artifacts/models/iris/9/model/MLmodel')).status, 404);
});

test('search, get, latest versions and update over the registry, with models Runboard registered itself', async () => {
  const { store, call } = await serveTemp();
  const run = await runWithModel(store, call);
  new Registry(store).register({ name: 'runboard-made', run: run.id, artifact: 'artifacts/model' });
  await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'empty-one', description: 'nothing yet' });

  const all = await call('GET', '/api/2.0/mlflow/registered-models/search?max_results=100');
  assert.deepEqual((all.json.registered_models as { name: string }[]).map((m) => m.name), ['empty-one', 'runboard-made']);
  const like = await call('GET', `/api/2.0/mlflow/registered-models/search?filter=${encodeURIComponent("name LIKE 'runboard%'")}`);
  const found = like.json.registered_models as { name: string; latest_versions: { source: string; run_id: string }[] }[];
  assert.deepEqual(found.map((m) => [m.name, m.latest_versions[0]!.source, m.latest_versions[0]!.run_id]), [['runboard-made', source(run), run.mlflowId]]);
  const paged = await call('GET', '/api/2.0/mlflow/registered-models/search?max_results=1');
  assert.equal(Buffer.from(paged.json.next_page_token as string, 'base64').toString(), '{"offset":1}', "MLflow's own token shape");
  const rest = await call('GET', `/api/2.0/mlflow/registered-models/search?max_results=1&page_token=${encodeURIComponent(paged.json.next_page_token as string)}`);
  assert.deepEqual([(rest.json.registered_models as { name: string }[])[0]!.name, rest.json.next_page_token], ['runboard-made', undefined]);
  assert.equal((await call('GET', `/api/2.0/mlflow/registered-models/search?filter=${encodeURIComponent('tags.x = 1')}`)).json.error_code, 'INVALID_PARAMETER_VALUE');

  const empty = await call('GET', '/api/2.0/mlflow/registered-models/get?name=empty-one');
  assert.deepEqual(Object.keys(empty.json.registered_model as object).sort(), ['creation_timestamp', 'description', 'last_updated_timestamp', 'name']);
  const updated = await call('PATCH', '/api/2.0/mlflow/registered-models/update', { name: 'runboard-made', description: 'from the sidebar' });
  assert.equal((updated.json.registered_model as { description: string }).description, 'from the sidebar');

  const latest = await call('POST', '/api/2.0/mlflow/registered-models/get-latest-versions', { name: 'runboard-made', stages: ['None'] });
  assert.deepEqual((latest.json.model_versions as { version: string }[]).map((v) => v.version), ['1']);
  assert.deepEqual((await call('GET', '/api/2.0/mlflow/registered-models/get-latest-versions?name=runboard-made&stages=Production')).json, {});
  const versions = await call('GET', `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`run_id = '${run.mlflowId}'`)}`);
  assert.deepEqual((versions.json.model_versions as { name: string }[]).map((v) => v.name), ['runboard-made']);
  assert.equal((await call('GET', '/api/2.0/mlflow/model-versions/get?name=runboard-made&version=1')).status, 200);
});

test('errors as MLflow words them: missing model or version, a source that is not a run artifact, traversal, a bad name', async () => {
  const { store, call } = await serveTemp();
  const run = await runWithModel(store, call);
  const noModel = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'nope', source: source(run) });
  assert.deepEqual([noModel.status, noModel.json.error_code, noModel.json.message], [404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=nope not found']);
  await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'm' });
  const noVersion = await call('GET', '/api/2.0/mlflow/model-versions/get?name=m&version=3');
  assert.deepEqual([noVersion.status, noVersion.json.message], [404, 'Model Version (name=m, version=3) not found']);
  for (const bad of ['s3://bucket/model', `mlflow-artifacts:/0/${run.mlflowId}/artifacts/../../../../etc`, `mlflow-artifacts:/0/${run.mlflowId}/artifacts/%2e%2e/%2e%2e/x`, `runs:/${run.mlflowId}/../x`]) {
    const reply = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'm', source: bad });
    assert.deepEqual([reply.status, reply.json.error_code], [400, 'INVALID_PARAMETER_VALUE'], bad);
  }
  const otherRun = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'm', source: source(run), run_id: 'b'.repeat(32) });
  assert.equal(otherRun.json.error_code, 'INVALID_PARAMETER_VALUE');
  const missingRun = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'm', source: `runs:/${'c'.repeat(32)}/model` });
  assert.equal(missingRun.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const badName = await call('POST', '/api/2.0/mlflow/registered-models/create', { name: '../evil' });
  assert.deepEqual([badName.status, badName.json.error_code], [400, 'INVALID_PARAMETER_VALUE']);
  assert.match(badName.json.message!, /Invalid model name/);
  assert.deepEqual(new Registry(store).list(), [], 'nothing was registered');
});

test('the npm mlflow client\'s request layer drives the registry, token and all', async () => {
  const { store, server, auth, call } = await serveTemp();
  const run = await runWithModel(store, call);
  const client = new ModelRegistryClient({ endpoint: server.url, headers: auth });
  const log = console.log;
  console.log = () => {}; // the client prints every body it posts
  try {
    await client.send('post', 'registered-models/create', { name: 'js' });
    const made = (await client.send('post', 'model-versions/create', { name: 'js', source: source(run), run_id: run.mlflowId })) as { model_version: { version: string; status: string } };
    assert.deepEqual([made.model_version.version, made.model_version.status], ['1', 'READY']);
    await client.send('post', 'registered-models/alias', { name: 'js', alias: 'prod', version: '1' });
    const byAlias = (await client.send('get', 'registered-models/alias', { name: 'js', alias: 'prod' })) as { model_version: { aliases: string[] } };
    assert.deepEqual(byAlias.model_version.aliases, ['prod']);
    const unauthorized = new ModelRegistryClient({ endpoint: server.url });
    await assert.rejects(unauthorized.send('get', 'registered-models/get', { name: 'js' }), /401/);
  } finally {
    console.log = log;
  }
});
