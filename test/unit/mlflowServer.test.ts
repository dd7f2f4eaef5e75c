import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { StoreChange } from '../../src/core/store/changes.ts';
import { tempDir } from './helpers.ts';
import { cli } from './cliHarness.ts';
import { mlflowServer, type Caller } from './mlflowHarness.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

async function newRun(call: Caller, fields: Record<string, unknown> = {}): Promise<string> {
  const answer = await call('POST', 'runs/create', { experiment_id: '0', start_time: 1_700_000_000_000, ...fields });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return ((answer.json.run as { info: { run_id: string } }).info).run_id;
}

test('every request needs the bearer token: none, a wrong one or another scheme get 401 with an MLflow error body', async () => {
  const { server, call } = await mlflowServer();
  for (const authorization of [undefined, `Bearer ${server.token}x`, `Basic ${server.token}`, server.token]) {
    const response = await fetch(`${server.url}/api/2.0/mlflow/experiments/get?experiment_id=0`, { headers: authorization ? { Authorization: authorization } : {} });
    assert.equal(response.status, 401, String(authorization));
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.error_code, 'UNAUTHENTICATED');
    assert.match(String(body.message), /MLFLOW_TRACKING_TOKEN/);
  }
  assert.equal((await call('GET', 'experiments/get', { experiment_id: '0' })).status, 200);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('experiments: get-by-name 404s until created, create refuses a taken name, tags and search', async () => {
  const { call } = await mlflowServer();
  const missing = await call('GET', 'experiments/get-by-name', { experiment_name: 'vision' });
  assert.deepEqual(missing, { status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Could not find experiment with name 'vision'" } });
  const created = await call('POST', 'experiments/create', { name: 'vision', tags: [{ key: 'team', value: 'cv' }] });
  assert.equal(created.status, 200);
  const id = created.json.experiment_id as string;
  assert.match(id, /^[1-9]\d*$/);
  const again = await call('POST', 'experiments/create', { name: 'vision' });
  assert.equal(again.status, 400);
  assert.equal(again.json.error_code, 'RESOURCE_ALREADY_EXISTS');
  assert.equal((await call('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'stage', value: 'dev' })).status, 200);
  const got = (await call('GET', 'experiments/get', { experiment_id: id })).json.experiment as Record<string, unknown>;
  assert.equal(got.name, 'vision');
  assert.equal(got.artifact_location, `mlflow-artifacts:/${id}`);
  assert.deepEqual(got.tags, [{ key: 'stage', value: 'dev' }, { key: 'team', value: 'cv' }]);
  assert.equal((await call('GET', 'experiments/get-by-name', { experiment_name: 'vision' })).json.experiment !== undefined, true);
  assert.equal((await call('GET', 'experiments/get', { experiment_id: '999' })).status, 404);
  await call('POST', 'experiments/create', { name: 'nlp' });
  const search = await call('POST', 'experiments/search', { max_results: 1, filter: "name LIKE 'vis%'" });
  assert.deepEqual((search.json.experiments as { name: string }[]).map((e) => e.name), ['vision']);
  const first = await call('POST', 'experiments/search', { max_results: 1 });
  const second = await call('POST', 'experiments/search', { max_results: 1, page_token: first.json.next_page_token });
  assert.notEqual((first.json.experiments as { name: string }[])[0]!.name, (second.json.experiments as { name: string }[])[0]!.name);
  assert.equal((await call('POST', 'experiments/search', { view_type: 'DELETED_ONLY' })).json.experiments, undefined);
});

test("runs/create maps MLflow's own tags to Runboard's fields and reads them back as tags, with one change event", async () => {
  const { store, call } = await mlflowServer();
  const parent = await newRun(call, { run_name: 'sweep' });
  const changes: StoreChange[] = [];
  store.onDidChange((c) => changes.push(c));
  const child = await newRun(call, {
    user_id: 'ana',
    tags: [
      { key: 'mlflow.runName', value: 'trial-1' },
      { key: 'mlflow.parentRunId', value: parent },
      { key: 'mlflow.source.git.commit', value: '0123456789abcdef0123456789abcdef01234567' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
    ],
  });
  assert.match(child, /^[0-9a-f]{32}$/);
  assert.equal(changes.length, 1, 'a run created with its tags is announced once');
  const run = store.runByMlflowId(child)!;
  assert.equal(run.name, 'trial-1');
  assert.equal(run.user, 'ana');
  assert.equal(run.status, 'running');
  assert.equal(run.startedAt, 1_700_000_000_000);
  assert.equal(run.parentId, store.runByMlflowId(parent)!.id);
  assert.equal(store.codeState(run.id)!.commit, '0123456789abcdef0123456789abcdef01234567');
  assert.deepEqual(store.tags(run.id), { 'mlflow.source.type': 'LOCAL' }, 'mapped tags live in their fields, not twice');
  const got = (await call('GET', 'runs/get', { run_id: child, run_uuid: child })).json.run as { info: Record<string, unknown>; data: { tags: { key: string; value: string }[] } };
  assert.equal(got.info.run_name, 'trial-1');
  assert.equal(got.info.status, 'RUNNING');
  assert.equal(got.info.artifact_uri, `mlflow-artifacts:/0/${child}/artifacts`);
  assert.deepEqual(Object.fromEntries(got.data.tags.map((t) => [t.key, t.value])), {
    'mlflow.source.type': 'LOCAL',
    'mlflow.runName': 'trial-1',
    'mlflow.user': 'ana',
    'mlflow.parentRunId': parent,
    'mlflow.source.git.commit': '0123456789abcdef0123456789abcdef01234567',
  });
  const conflict = await call('POST', 'runs/create', { experiment_id: '0', run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] });
  assert.equal(conflict.status, 400);
  assert.match(String(conflict.json.message), /^Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values/);
  const unknown = await call('GET', 'runs/get', { run_id: 'f'.repeat(32) });
  assert.deepEqual(unknown, { status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run with id=${'f'.repeat(32)} not found` } });
});

test('log-metric, log-parameter, set-tag and log-batch land in the store; NaN and ±Inf travel as strings both ways', async () => {
  const { store, call } = await mlflowServer();
  const id = await newRun(call);
  const run = store.runByMlflowId(id)!;
  assert.equal((await call('POST', 'runs/log-metric', { run_id: id, run_uuid: id, key: 'loss', value: 0.5, timestamp: 1_700_000_000_100, step: 0 })).status, 200);
  assert.equal((await call('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.01' })).status, 200);
  assert.equal((await call('POST', 'runs/set-tag', { run_id: id, key: 'phase', value: 'warmup' })).status, 200);
  assert.equal((await call('POST', 'runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'renamed' })).status, 200);
  const batch = await call('POST', 'runs/log-batch', {
    run_id: id,
    metrics: [
      { key: 'loss', value: 'NaN', timestamp: 1_700_000_000_200, step: 1 },
      { key: 'loss', value: 'Infinity', timestamp: 1_700_000_000_300, step: 2 },
      { key: 'loss', value: '-Infinity', timestamp: 1_700_000_000_400, step: 3 },
      { key: 'acc', value: 0.9, timestamp: 1_700_000_000_400 },
    ],
    params: [{ key: 'lr', value: '0.01' }, { key: 'batch', value: '32' }],
    tags: [{ key: 'phase', value: 'main' }],
  });
  assert.equal(batch.status, 200, JSON.stringify(batch.json));
  assert.deepEqual(store.params(run.id), { batch: '32', lr: '0.01' });
  assert.deepEqual(store.tags(run.id), { phase: 'main' });
  assert.equal(store.run(run.id)!.name, 'renamed');
  assert.deepEqual(store.series(run.id, 'loss').map((p) => p.value), [0.5, NaN, Infinity, -Infinity]);
  assert.deepEqual(store.series(run.id, 'acc').map((p) => [p.step, p.wall]), [[0, 1_700_000_000_400]]);
  const history = await call('GET', 'metrics/get-history', { run_id: id, run_uuid: id, metric_key: 'loss' });
  assert.deepEqual(history.json.metrics, [
    { key: 'loss', value: 0.5, timestamp: 1_700_000_000_100, step: 0 },
    { key: 'loss', value: 'NaN', timestamp: 1_700_000_000_200, step: 1 },
    { key: 'loss', value: 'Infinity', timestamp: 1_700_000_000_300, step: 2 },
    { key: 'loss', value: '-Infinity', timestamp: 1_700_000_000_400, step: 3 },
  ]);
  const data = ((await call('GET', 'runs/get', { run_id: id })).json.run as { data: { metrics: unknown[] } }).data;
  assert.deepEqual(data.metrics, [
    { key: 'acc', value: 0.9, timestamp: 1_700_000_000_400, step: 0 },
    { key: 'loss', value: '-Infinity', timestamp: 1_700_000_000_400, step: 3 },
  ]);
  assert.equal((await call('POST', 'runs/delete-tag', { run_id: id, key: 'phase' })).status, 200);
  const gone = await call('POST', 'runs/delete-tag', { run_id: id, key: 'phase' });
  assert.deepEqual(gone.json, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `No tag with name: phase in run with id ${id}` });
});

test("log-batch enforces MLflow's limits and validation with its words, and keeps nothing of a refused batch", async () => {
  const { store, call } = await mlflowServer();
  const id = await newRun(call);
  const run = store.runByMlflowId(id)!;
  const metrics = (n: number) => Array.from({ length: n }, (_, step) => ({ key: 'm', value: step, timestamp: 1, step }));
  const params = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: String(i) }));
  const refused = async (fields: Record<string, unknown>, message: string | RegExp) => {
    const answer = await call('POST', 'runs/log-batch', { run_id: id, ...fields });
    assert.equal(answer.status, 400, JSON.stringify(fields).slice(0, 80));
    assert.equal(answer.json.error_code, 'INVALID_PARAMETER_VALUE');
    if (typeof message === 'string') assert.equal(answer.json.message, message);
    else assert.match(String(answer.json.message), message);
  };
  await refused({ metrics: metrics(1001) }, 'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.');
  await refused({ params: params(101) }, 'A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.');
  await refused({ metrics: metrics(950), params: params(51) }, /^A batch logging request can contain at most 1000 metrics, params, and tags\. Got 1001/);
  await refused({ metrics: [{ key: '../up', value: 1, timestamp: 1 }] }, /^Invalid metric name: '\.\.\/up'\. Names may be treated as files/);
  await refused({ metrics: [{ key: 'a$b', value: 1, timestamp: 1 }] }, "Invalid metric name: 'a$b'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).");
  await refused({ metrics: [{ key: 'm', value: 'high', timestamp: 1 }] }, /^Got invalid value high for metric 'm'/);
  await refused({ metrics: [{ key: 'm', value: 1, timestamp: -5 }] }, /^Got invalid timestamp -5 for metric 'm'/);
  await refused({ metrics: [{ key: 'm', value: 1 }] }, "Missing value for required parameter 'metrics'. See the API docs for more information about request parameters.");
  await refused({ params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }, "Duplicate parameter keys have been submitted: ['a']. Please ensure the request contains only one param value per param key.");
  await refused({ params: [{ key: 'k'.repeat(251), value: '1' }] }, /^Param key 'k+' had length 251, which exceeded length limit of 250$/);
  assert.deepEqual(store.summaries(run.id), {}, 'nothing of a refused batch was stored');
  assert.equal((await call('POST', 'runs/log-batch', { run_id: id, metrics: metrics(1000) })).status, 200, 'exactly 1,000 metrics pass');
  assert.equal(store.series(run.id, 'm').length, 1000);
  // Params are never changed, as in MLflow; the same value again is fine; long values are truncated.
  assert.equal((await call('POST', 'runs/log-batch', { run_id: id, params: [{ key: 'lr', value: '0.1' }, { key: 'long', value: 'x'.repeat(7000) }] })).status, 200);
  assert.equal(store.params(run.id).long!.length, 6000);
  assert.equal((await call('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' })).status, 200);
  await refused({ params: [{ key: 'lr', value: '0.2' }] }, `Changing param values is not allowed. Params were already logged='[{'key': 'lr', 'old_value': '0.1', 'new_value': '0.2'}]' for run ID='${id}'.`);
  const single = await call('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.3' });
  assert.equal(
    single.json.message,
    `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${id}'. Attempted logging new value '0.3'.`,
  );
});

test('bodies: 1 MB is accepted, beyond the limit is 413, malformed JSON is 400, an unknown endpoint is 404', async () => {
  const { store, call } = await mlflowServer();
  const id = await newRun(call);
  const big = {
    run_id: id,
    params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'v'.repeat(6000) })),
    tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 't'.repeat(5000) })),
  };
  assert.ok(JSON.stringify(big).length > 1024 * 1024, 'the body is over 1 MiB');
  assert.equal((await call('POST', 'runs/log-batch', big)).status, 200);
  assert.equal(Object.keys(store.params(store.runByMlflowId(id)!.id)).length, 100);
  const huge = await call('POST', 'runs/log-batch', JSON.stringify({ run_id: id, tags: [{ key: 'x', value: 'y'.repeat(9 * 1024 * 1024) }] }));
  assert.equal(huge.status, 413);
  assert.equal(huge.json.error_code, 'INVALID_PARAMETER_VALUE');
  const malformed = await call('POST', 'runs/log-batch', '{"run_id": ');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(String(malformed.json.message), /^Malformed JSON request body/);
  const missing = await call('POST', 'runs/log-metric', { key: 'm', value: 1, timestamp: 1 });
  assert.equal(missing.json.message, "Missing value for required parameter 'run_uuid'. See the API docs for more information about request parameters.");
  assert.equal((await call('GET', '/api/2.0/mlflow/runs/get%E0%A4%A')).status, 400, 'a malformed path is the client\'s error');
  const nowhere = await call('GET', 'runs/nowhere');
  assert.equal(nowhere.status, 404);
  assert.equal(nowhere.json.error_code, 'ENDPOINT_NOT_FOUND');
});

test('update ends a run; delete hides it from lists and refuses writes until restored; a launched run keeps its own end', async () => {
  const { store, call } = await mlflowServer();
  const id = await newRun(call, { run_name: 'r' });
  const run = store.runByMlflowId(id)!;
  const updated = await call('POST', 'runs/update', { run_id: id, run_uuid: id, status: 'FINISHED', end_time: 1_700_000_009_000 });
  assert.equal((updated.json.run_info as { status: string }).status, 'FINISHED');
  assert.equal(store.run(run.id)!.status, 'finished');
  assert.equal(store.run(run.id)!.endedAt, 1_700_000_009_000);
  assert.equal((await call('POST', 'runs/update', { run_id: id, status: 2 })).status, 200, "protobuf's JSON may name the status by number");
  assert.equal(store.run(run.id)!.status, 'queued');
  assert.equal((await call('POST', 'runs/update', { run_id: id, status: 'DONE' })).json.message, "Invalid run status: 'DONE'");
  await call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: 1_700_000_009_000 });
  const listed = () => store.runPage({ sort: { by: 'created', descending: true }, limit: 10, offset: 0 }).runs.map((r) => r.id);
  assert.deepEqual(listed(), [run.id]);
  assert.equal((await call('POST', 'runs/delete', { run_id: id })).status, 200);
  assert.deepEqual(listed(), [], 'a deleted run is hidden from the page');
  assert.deepEqual(store.runs(), [], 'and from lists');
  assert.equal(store.experiments().find((e) => e.name === 'Default')!.runCount, 0);
  const refused = await call('POST', 'runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: 1 });
  assert.equal(refused.json.message, `The run ${id} must be in the 'active' state. Current state is deleted.`);
  assert.equal(((await call('GET', 'runs/get', { run_id: id })).json.run as { info: { lifecycle_stage: string } }).info.lifecycle_stage, 'deleted');
  const deletedOnly = await call('POST', 'runs/search', { experiment_ids: ['0'], run_view_type: 'DELETED_ONLY' });
  assert.equal((deletedOnly.json.runs as unknown[]).length, 1);
  assert.equal((await call('POST', 'runs/restore', { run_id: id })).status, 200);
  assert.deepEqual(listed(), [run.id]);
  const launched = store.createRun({ name: 'launched' });
  store.markStarted(launched.id, process.pid);
  await call('POST', 'runs/update', { run_id: launched.mlflowId, status: 'FINISHED', end_time: 5 });
  assert.equal(store.run(launched.id)!.status, 'running', "the launcher, not the client's end_run, ends a run Runboard launched");
});

test('metrics/get-history pages with max_results and page_token until every point is read', async () => {
  const { call } = await mlflowServer();
  const id = await newRun(call);
  await call('POST', 'runs/log-batch', { run_id: id, metrics: Array.from({ length: 25 }, (_, step) => ({ key: 'm', value: step, timestamp: 1, step })) });
  const steps: number[] = [];
  let token: unknown;
  let pages = 0;
  do {
    const page = await call('GET', 'metrics/get-history', { run_id: id, metric_key: 'm', max_results: 10, ...(token ? { page_token: token } : {}) });
    steps.push(...(page.json.metrics as { step: number }[]).map((m) => m.step));
    token = page.json.next_page_token;
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(steps, Array.from({ length: 25 }, (_, i) => i));
  assert.deepEqual((await call('GET', 'metrics/get-history', { run_id: id, metric_key: 'none' })).json, {});
});

test("runs/search: MLflow's filter over metrics, params, tags and attributes, order_by, paging", async () => {
  const { call } = await mlflowServer();
  const experiment = (await call('POST', 'experiments/create', { name: 'sweep' })).json.experiment_id as string;
  for (const [i, lr] of ['0.1', '0.01', '0.001'].entries()) {
    const id = await newRun(call, { experiment_id: experiment, run_name: `r${i}`, start_time: 1_700_000_000_000 + i });
    await call('POST', 'runs/log-batch', { run_id: id, params: [{ key: 'lr', value: lr }], metrics: [{ key: 'acc', value: 0.5 + i / 10, timestamp: 1 }], tags: [{ key: 'kind', value: i === 1 ? 'base' : 'try' }] });
  }
  const names = async (fields: Record<string, unknown>) => {
    const answer = await call('POST', 'runs/search', { experiment_ids: [experiment], ...fields });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    return ((answer.json.runs ?? []) as { info: { run_name: string } }[]).map((r) => r.info.run_name);
  };
  assert.deepEqual(await names({}), ['r2', 'r1', 'r0'], 'newest start first by default');
  assert.deepEqual(await names({ filter: 'metrics.acc > 0.55' }), ['r2', 'r1']);
  assert.deepEqual(await names({ filter: "params.lr = '0.1'" }), ['r0']);
  assert.deepEqual(await names({ filter: "tags.kind = 'try' and attributes.run_name LIKE 'r%'" }), ['r2', 'r0']);
  assert.deepEqual(await names({ filter: "tags.mlflow.runName = 'r1'" }), ['r1'], "MLflow's tags kept in Runboard's fields are searched as tags");
  const r0 = ((await call('POST', 'runs/search', { experiment_ids: [experiment], filter: "attributes.run_name = 'r0'" })).json.runs as { info: { run_id: string } }[])[0]!.info.run_id;
  const child = await newRun(call, { experiment_id: experiment, run_name: 'c', tags: [{ key: 'mlflow.parentRunId', value: r0 }] });
  assert.deepEqual(await names({ filter: `tags.mlflow.parentRunId = '${r0}'` }), ['c'], 'child runs are found by their parent, as MLflow clients look for them');
  await call('POST', 'runs/delete', { run_id: child });
  assert.deepEqual(await names({ order_by: ['metrics.acc ASC'] }), ['r0', 'r1', 'r2']);
  assert.deepEqual(await names({ order_by: ['params.lr DESC'] }), ['r0', 'r1', 'r2']);
  const first = await call('POST', 'runs/search', { experiment_ids: [experiment], max_results: 2 });
  assert.equal((first.json.runs as unknown[]).length, 2);
  const rest = await call('POST', 'runs/search', { experiment_ids: [experiment], max_results: 2, page_token: first.json.next_page_token });
  assert.deepEqual((rest.json.runs as { info: { run_name: string } }[]).map((r) => r.info.run_name), ['r0']);
  assert.equal(rest.json.next_page_token, undefined);
  const bad = await call('POST', 'runs/search', { experiment_ids: [experiment], filter: 'metrics.acc >' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.deepEqual(await names({ experiment_ids: ['12345'] }), [], 'an unknown experiment selects nothing');
});

test('runboard serve --json: first line {url, token}; the token from RUNBOARD_SERVE_TOKEN; SIGTERM ends it with 0; a taken port is one line', async () => {
  const cwd = tempDir();
  const child = spawn(process.execPath, [CLI, 'serve', '--json'], { cwd, env: { ...process.env, RUNBOARD_DB: '', RUNBOARD_SERVE_TOKEN: 'secret-token-1' } });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  assert.equal(token, 'secret-token-1');
  assert.equal((await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`)).status, 401);
  assert.equal((await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`, { headers: { Authorization: 'Bearer secret-token-1' } })).status, 200);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const taken = cli(['serve', '--port', String(port)], { cwd });
  blocker.close();
  assert.equal(taken.code, 2);
  assert.equal(taken.stderr.trim(), `runboard serve: port ${port} on 127.0.0.1 is already in use; pick another with --port, or 0 for a free one`);
  assert.equal(cli(['serve', '--port', 'x'], { cwd }).stderr.trim().split('\n').length, 1);
});
