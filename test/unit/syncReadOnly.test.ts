import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { stopRun } from '../../src/core/launch/stop.ts';
import { startMlflowServer } from '../../src/core/mlflow/server.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { pullRuns } from '../../src/core/sync/pull.ts';
import { assertLocalRun } from '../../src/core/sync/readOnly.ts';
import { RunCapture } from '../../src/core/tracking/capture.ts';
import { deleteRuns } from '../../src/core/tracking/deleteRuns.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir, tempStore } from './helpers.ts';
import { caller, type Caller } from './mlflowHarness.ts';
import { remoteWorkspace, testClient } from './syncHarness.ts';

type Remote = Awaited<ReturnType<typeof remoteWorkspace>>;

/** A teammate's run on the team server (a `runboard serve`), still running unless `finished`. */
function teammateRun(remote: Remote, options: { finished?: boolean } = {}): Run {
  const run = remote.store.createRun({ experiment: 'team-exp', name: 'grace-sweep-3', params: { lr: 0.3 }, user: 'grace', status: 'running', startedAt: 1_700_000_000_000 });
  remote.store.setTags(run.id, { team: 'vision' });
  remote.store.logMetrics(run.id, [0, 1, 2].map((step) => ({ key: 'loss', step, value: 1 / (step + 1), wall: 1_700_000_000_000 + step })));
  if (options.finished) remote.store.markEnded(run.id, { status: 'finished' });
  return remote.store.run(run.id)!;
}

/** A workspace holding a pulled copy of a teammate's run. */
async function pulledWorkspace(options: { finished?: boolean } = {}) {
  const local = tempStore();
  const remote = await remoteWorkspace();
  const theirs = teammateRun(remote, options);
  const client = testClient(remote.server.url, remote.server.token);
  await pullRuns(local.store, client);
  const copy = local.store.run(local.store.sync.byRemoteRunId(remote.server.url, theirs.mlflowId)!.runId)!;
  return { ...local, remote, theirs, client, copy };
}

const readOnlyLine = (copy: Run, remoteUrl: string, subject = `run ${copy.id} (grace-sweep-3)`) =>
  `${subject} was pulled from ${remoteUrl} (author grace): it is read-only here; change it on the team server`;

/** Everything a write could change about a run. */
function state(store: Store, id: number) {
  const run = store.run(id);
  return run && { run, params: store.params(id), tags: store.tags(id), metrics: store.summaries(id), artifacts: store.artifacts(id), inputs: store.inputs(id), code: store.codeState(id) };
}

/** Every MLflow write that names a run, as a client sends it. */
function writes(run: Run): [string, string, Record<string, unknown> | string][] {
  const id = run.mlflowId;
  const model = { artifact_path: 'model', flavors: {}, utc_time_created: '2026-01-01 00:00:00.000000', run_id: id };
  const dataset = { name: 'train', digest: 'abc123', source_type: 'local', source: JSON.stringify({ uri: '/data/train.csv' }) };
  return [
    ['POST', 'runs/update', { run_id: id, status: 'KILLED', end_time: 1_700_000_900_000, run_name: 'renamed' }],
    ['POST', 'runs/log-metric', { run_id: id, key: 'loss', value: 9, timestamp: 1_700_000_900_000, step: 99 }],
    ['POST', 'runs/log-parameter', { run_id: id, key: 'batch', value: '64' }],
    ['POST', 'runs/set-tag', { run_id: id, key: 'team', value: 'hijacked' }],
    ['POST', 'runs/delete-tag', { run_id: id, key: 'team' }],
    ['POST', 'runs/log-batch', { run_id: id, metrics: [{ key: 'acc', value: 0.5, timestamp: 1_700_000_900_000, step: 0 }], params: [{ key: 'seed', value: '1' }], tags: [{ key: 'x', value: 'y' }] }],
    ['POST', 'runs/log-inputs', { run_id: id, datasets: [{ dataset }] }],
    ['POST', 'runs/log-model', { run_id: id, model_json: JSON.stringify(model) }],
    ['PUT', `/api/2.0/mlflow-artifacts/artifacts/${run.experimentId}/${id}/artifacts/notes.txt`, 'a note\n'],
    ['POST', 'runs/delete', { run_id: id }],
    ['POST', 'runs/restore', { run_id: id }],
  ];
}

async function send(call: Caller, [method, path, fields]: [string, string, Record<string, unknown> | string]) {
  return call(method, path, fields, typeof fields === 'string' ? { 'Content-Type': 'text/plain' } : {});
}

test('runboard serve refuses every write to a pulled run with INVALID_STATE (400, not a retried 500) and changes nothing; the same writes to a local run pass', async () => {
  const { store, copy, remote } = await pulledWorkspace();
  const server = await startMlflowServer({ store });
  try {
    const call = caller(server);
    const before = state(store, copy.id);
    for (const write of writes(copy)) {
      const answer = await send(call, write);
      assert.equal(answer.status, 400, `${write[1]}: ${JSON.stringify(answer.json)}`);
      assert.deepEqual(answer.json, { error_code: 'INVALID_STATE', message: `${readOnlyLine(copy, remote.server.url, `The run ${copy.mlflowId}`)}.` }, write[1]);
    }
    assert.deepEqual(state(store, copy.id), before, 'the pulled run is as pulled');
    assert.equal(existsSync(join(store.file, '..', 'runs', String(copy.id))), false, 'no folder made for the refused upload');
    assert.equal((await call('GET', 'runs/get', { run_id: copy.mlflowId })).status, 200, 'reads still answer');

    const own = store.createRun({ experiment: 'team-exp', name: 'mine', status: 'running' });
    for (const write of writes(own)) assert.equal((await send(call, write)).status, 200, `${write[1]} on a local run`);
    const after = state(store, own.id)!;
    assert.equal(after.run.status, 'killed');
    assert.equal(after.params.seed, '1');
    assert.equal(after.inputs.length, 1);
  } finally {
    await server.close();
  }
});

test('a re-pull still updates a pulled run: the guard is for writers here, not for pull', async () => {
  const { store, copy, remote, theirs, client } = await pulledWorkspace();
  remote.store.logMetrics(theirs.id, [{ key: 'loss', step: 3, value: 0.2, wall: 1_700_000_000_003 }]);
  remote.store.setTags(theirs.id, { team: 'vision-2' });
  remote.store.markEnded(theirs.id, { status: 'finished' });
  const again = await pullRuns(store, client);
  assert.deepEqual(again.runs.map((r) => [r.id, r.created, r.points]), [[copy.id, false, 1]]);
  assert.equal(store.run(copy.id)!.status, 'finished');
  assert.equal(store.tags(copy.id).team, 'vision-2');
  assert.equal(store.summaries(copy.id).loss!.lastStep, 3);
});

test('the core guard: stop and capture refuse a pulled run with one line and change nothing; a local run passes', async () => {
  const { store, copy, remote } = await pulledWorkspace();
  const line = readOnlyLine(copy, remote.server.url);
  assert.throws(() => assertLocalRun(store, copy), (err) => err instanceof UserError && err.message === line);
  assert.doesNotThrow(() => assertLocalRun(store, store.createRun({ name: 'mine' })));

  await assert.rejects(stopRun(store, copy.id, { graceMs: 0 }), (err) => err instanceof UserError && err.message === line);
  assert.equal(store.run(copy.id)!.status, 'running', 'a teammate run still running there is not marked killed here');
  assert.equal(store.run(copy.id)!.signal, null);

  const runDir = join(tempDir(), 'capture');
  assert.throws(() => new RunCapture(store, { runId: copy.id, runDir, watch: false }), (err) => err instanceof UserError && err.message === line);
  assert.deepEqual(store.ingest.open(), [], 'no capture was begun');
  assert.equal(existsSync(runDir), false);
});

test('deleting a pulled run forgets the local copy, even while it runs on its server; the next pull brings it back', async () => {
  const { store, dbPath, copy, client } = await pulledWorkspace();
  const local = store.createRun({ name: 'mine', status: 'running' });
  assert.throws(() => deleteRuns(store, dbPath, [copy, local]), /^UserError: Stop run \d+ \(mine, running\) before deleting it; nothing was deleted\.$/);
  assert.ok(store.run(copy.id), 'nothing deleted when one run is refused');

  const [forgotten] = deleteRuns(store, dbPath, [copy]);
  assert.deepEqual([forgotten!.run.id, forgotten!.folder, forgotten!.pulledFrom], [copy.id, 'absent', client.url]);
  assert.equal(store.run(copy.id), undefined);
  assert.equal(store.sync.byRemoteRunId(client.url, copy.mlflowId), undefined, 'its link goes with it');

  const again = await pullRuns(store, client);
  assert.deepEqual(again.runs.map((r) => [r.name, r.created]), [['grace-sweep-3', true]]);
});

test('runboard stop and delete on a pulled run: stop is one line and exit 2; delete says it forgets only the copy', async () => {
  const { store, workspace, copy, remote } = await pulledWorkspace();
  const stop = cli(['stop', String(copy.id)], { cwd: workspace });
  assert.equal(stop.code, 2);
  assert.equal(stop.stderr, `runboard stop: ${readOnlyLine(copy, remote.server.url)}\n`);
  assert.equal(store.run(copy.id)!.status, 'running');

  const dry = cli(['delete', String(copy.id)], { cwd: workspace });
  assert.equal(dry.code, 1);
  assert.equal(dry.stdout, `would forget pulled run ${copy.id} (grace-sweep-3, running): only this copy; ${remote.server.url} keeps the run and the next pull brings it back\n`);
  assert.ok(store.run(copy.id));

  const done = cli(['delete', String(copy.id), '--yes', '--json'], { cwd: workspace });
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(json(done), [{ id: copy.id, name: 'grace-sweep-3', runDir: null, folder: 'absent', note: null, pulledFrom: remote.server.url }]);
  assert.equal(store.run(copy.id), undefined);
});
