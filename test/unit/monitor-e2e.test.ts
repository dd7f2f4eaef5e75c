import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { sha256File } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { SYSTEM_PYTHON } from './registryFixtures.ts';

/**
 * A real scikit-learn classifier trained under `runboard run` with `log_reference`, served by the
 * real model server; rows go over real HTTP. The script also writes the rows the test sends: 300
 * in distribution with their true labels, and 300 more with two of four features shifted.
 */
const TRAIN = `
import json, os, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
import pickle, runboard

rng = np.random.default_rng(11)
def draw(n):
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 2] + rng.normal(scale=0.7, size=n) > 0).astype(int)
    return X, y

X, y = draw(3000)
production = os.environ.get("RUNBOARD_PRODUCTION_DATA")
if production:
    runboard.log_params({"production_rows": sum(1 for _ in open(production)) - 1})
model = LogisticRegression().fit(X, y)
out = os.environ["RUNBOARD_RUN_DIR"]
pickle.dump(model, open(os.path.join(out, "model.pkl"), "wb"))
if "--no-reference" not in sys.argv:
    runboard.log_reference(X, y, feature_names=["age", "income", "score", "tenure"])
runboard.log(accuracy=float(model.score(X, y)))
live, live_y = draw(300)
shifted, _ = draw(300)
shifted[:, 1] += 2.0
shifted[:, 3] = shifted[:, 3] * 3 + 1
json.dump({"live": live.tolist(), "labels": live_y.tolist(), "shifted": shifted.tolist(), "baseline": draw(600)[0].tolist()},
          open(os.path.join(out, "traffic.json"), "w"))
`;

const workspace = mkdtempSync(join(tmpdir(), 'runboard-test-'));
// One hook, servers first: root hooks run in the order they were added, so a separate removal
// hook (tempDir's) ran first, and the servers then outlived the test with their folder gone.
after(async () => {
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'));
  const deployments = new Deployments(store, { settings: {} });
  for (const d of deployments.list()) await deployments.stop(d.id).catch(() => undefined);
  store.close();
  rmSync(workspace, { recursive: true, force: true });
});

const run = (...args: string[]) => cli(args, { cwd: workspace });

/** One request on a connection of its own: a replaced server must not leave a pooled socket behind. */
function post(url: string, token: string | undefined, body: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, timeout: 10_000, headers: { 'content-length': Buffer.byteLength(data), ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer in time`)));
    req.end(data);
  });
}

interface Traffic {
  live: number[][];
  labels: number[];
  shifted: number[][];
  baseline: number[][];
}

function trainAndDeploy(name: string, extra: string[] = [], deployArgs: string[] = []): { deployment: { id: number; url: string; token: string; status: string; error: string }; traffic: Traffic; runId: number } {
  const trained = run('run', '--name', name, '--', SYSTEM_PYTHON, 'train.py', ...extra);
  assert.equal(trained.code, 0, trained.stderr);
  const runId = Number(/run (\d+)/.exec(trained.stderr)![1]);
  const registered = run('models', 'register', String(runId), 'model.pkl', '--name', name, '--alias', 'champion', '--json');
  assert.equal(registered.code, 0, registered.stderr);
  const deployment = json(run('deploy', `${name}@champion`, ...deployArgs, '--json'));
  assert.equal(deployment.status, 'running', deployment.error);
  const traffic = JSON.parse(readFileSync(join(workspace, '.runboard', 'runs', String(runId), 'traffic.json'), 'utf8')) as Traffic;
  return { deployment, traffic, runId };
}

test('monitoring end to end: ids and feedback, live accuracy, exactly the shifted features flagged, gates, export, retrain with lineage and promotion', { timeout: 240_000 }, async () => {
  writeFileSync(join(workspace, 'train.py'), TRAIN);
  const { deployment: d, traffic, runId } = trainAndDeploy('churn');

  // In distribution: answers carry one id per row; labels go to /feedback.
  const answer = await post(`${d.url}/predict`, d.token, { instances: traffic.live });
  assert.equal(answer.status, 200);
  const ids = answer.body.ids as number[];
  assert.equal(ids.length, traffic.live.length);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  const predictions = answer.body.predictions as number[];
  const expectedAccuracy = predictions.filter((p, i) => p === traffic.labels[i]).length / predictions.length;

  assert.equal((await post(`${d.url}/feedback`, undefined, { ids: [ids[0]], labels: [1] })).status, 401, 'feedback needs the token');
  const unknown = await post(`${d.url}/feedback`, d.token, { ids: [987654, 'x'], labels: [1, 0] });
  assert.equal(unknown.status, 200);
  assert.deepEqual(unknown.body, { recorded: 0, unknown: [987654, 'x'] });
  const mismatched = await post(`${d.url}/feedback`, d.token, { ids: [ids[0]], labels: [] });
  assert.equal(mismatched.status, 400);
  const labeled = await post(`${d.url}/feedback`, d.token, { ids, labels: traffic.labels });
  assert.deepEqual(labeled.body, { recorded: ids.length, unknown: [] });

  const calm = json(run('monitor', String(d.id), '--window', '300', '--json'));
  assert.equal(calm.deployment, d.id);
  assert.deepEqual([calm.model, calm.version], ['churn', 1]);
  assert.equal(calm.window.rows, 300);
  assert.equal(calm.window.requests, 1);
  assert.deepEqual(calm.reference, { source: 'training', rows: 3000, ready: true, baselineRows: null, features: ['age', 'income', 'score', 'tenure'] });
  assert.equal(calm.drift.drifted, false, JSON.stringify(calm.drift.features));
  assert.equal(calm.performance.labeled, 300);
  assert.equal(calm.performance.accuracy, expectedAccuracy, 'live accuracy is the model\'s accuracy on the labeled rows');
  assert.equal(calm.traffic.errors, 0);
  assert.ok(calm.traffic.p50Ms > 0);
  assert.ok(calm.quality.every((q: { outOfRange: number; missing: number }) => q.missing === 0));
  assert.equal(calm.histograms.length, 4);
  assert.equal(calm.prediction.bins.length, 2);

  const passing = run('check', `deployment:${d.id}`, '--drift', '--metric', 'accuracy>=0.5', '--window', '300');
  assert.equal(passing.code, 0, passing.stderr);
  const strict = run('check', `deployment:${d.id}`, '--metric', `accuracy>=${expectedAccuracy + 0.01}`, '--window', '300');
  assert.equal(strict.code, 1, 'a live metric below its threshold fails the gate');
  assert.match(strict.stderr, /FAIL\s+accuracy>=/);
  assert.equal(run('check', `deployment:${d.id}`).code, 2, 'neither --drift nor --metric is a usage error');
  assert.equal(run('check', 'deployment:999', '--drift').code, 2);

  // Two of four features shifted: exactly those are flagged.
  assert.equal((await post(`${d.url}/predict`, d.token, { instances: traffic.shifted })).status, 200);
  const drifted = json(run('monitor', String(d.id), '--window', '300', '--json'));
  assert.equal(drifted.drift.drifted, true);
  assert.deepEqual(drifted.drift.features.filter((f: { drifted: boolean }) => f.drifted).map((f: { name: string }) => f.name), ['income', 'tenure']);
  assert.equal(drifted.performance, null, 'no labels for the shifted rows');
  const tenure = drifted.quality.find((q: { name: string }) => q.name === 'tenure');
  assert.ok(tenure.outOfRange > 0, 'tripled values leave the reference range');
  const text = run('monitor', String(d.id), '--window', '300');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Drift: DRIFTED/);
  assert.match(text.stdout, /^income\s.*psi [\d.]+ >= 0\.2/m);
  assert.match(text.stderr, /FAIL {2}drift in income, tenure/);
  const checked = run('check', `deployment:${d.id}`, '--drift', '--window', '300', '--json');
  assert.equal(checked.code, 1, checked.stderr);
  assert.equal(json(checked).ok, false);
  const whole = json(run('monitor', String(d.id), '--json'));
  assert.equal(whole.window.rows, 600);
  assert.equal(whole.performance.labeled, 300);
  assert.equal(whole.history.points.at(-1).labeled, 300);

  // Export: the served rows with their labels.
  const csv = join(workspace, 'served.csv');
  assert.equal(run('monitor', 'export', String(d.id), '--out', csv, '--labeled').code, 0);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'id,time,age,income,score,tenure,prediction,label');
  assert.equal(lines.length, 301);
  assert.equal(lines[1]!.split(',').at(-1), String(traffic.labels[0]));

  // Retrain: the source run again, with the served rows as an input and a lineage edge from the deployment.
  const retrained = run('retrain', String(d.id), '--promote', '--json');
  assert.equal(retrained.code, 0, retrained.stderr);
  const result = json(retrained);
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'), { readonly: true });
  try {
    assert.ok(store.downstream('deployment', d.id).some((e) => e.dstKind === 'run' && e.dstId === result.run && e.relation === 'retrain'));
    const input = store.inputs(result.run).find((i) => i.path.endsWith('.csv') && i.path.includes('production-'));
    assert.ok(input, `the production CSV is an input: ${JSON.stringify(store.inputs(result.run))}`);
    assert.equal(input.fingerprint, sha256File(result.data));
    assert.equal(store.params(result.run).production_rows, '600');
    assert.ok(store.upstream('run', result.run).some((e) => e.srcId === runId && e.relation === 'rerun'));
  } finally {
    store.close();
  }
  assert.equal(result.promoted.version, 2);
  assert.deepEqual(result.promoted.aliases, ['champion']);
  assert.equal(result.promoted.url, d.url, 'rolled over on the same URL');
  const again = await post(`${d.url}/predict`, d.token, { instances: traffic.live.slice(0, 2) });
  assert.equal(again.status, 200, 'and the same token');
  assert.deepEqual(again.body.ids, [1, 2], 'the new deployment keeps its own rows');
});

test('without a reference, the first rows served become the baseline, reported as such', { timeout: 120_000 }, async () => {
  const { deployment: d, traffic } = trainAndDeploy('nobase', ['--no-reference'], ['--baseline-rows', '300']);
  const before = json(run('monitor', String(d.id), '--json'));
  assert.equal(before.reference.ready, false);
  assert.equal(before.drift, null);
  assert.equal(run('check', `deployment:${d.id}`, '--drift').code, 2, 'no drift to judge yet');
  assert.equal((await post(`${d.url}/predict`, d.token, { instances: traffic.baseline.slice(0, 250) })).status, 200);
  assert.equal((await post(`${d.url}/predict`, d.token, { instances: traffic.baseline.slice(250) })).status, 200);
  const report = json(run('monitor', String(d.id), '--json'));
  assert.deepEqual([report.reference.source, report.reference.rows, report.reference.ready, report.reference.baselineRows], ['baseline', 300, true, 300]);
  assert.deepEqual(report.reference.features, ['f0', 'f1', 'f2', 'f3']);
  assert.equal(report.window.rows, 600);
  assert.equal(report.quality[0].count, 300, 'drift compares the rows after the baseline, also those of the request that completed it');
  assert.equal(report.drift.drifted, false, JSON.stringify(report.drift));
  assert.equal(run('deploy', 'nobase', '--baseline-rows', '0').code, 2);
});

test("the profile's monitor gates apply to its deployments, and --promote refuses a model whose gates fail, leaving the deployment serving", { timeout: 180_000 }, async () => {
  writeFileSync(join(workspace, 'train.py'), TRAIN);
  mkdirSync(join(workspace, '.runboard'), { recursive: true });
  writeFileSync(join(workspace, '.runboard', 'profiles.json'), JSON.stringify({
    profiles: { gated: { command: ['${interpreter}', 'train.py'], interpreter: SYSTEM_PYTHON, gates: ['accuracy>=2'], monitor: { gates: ['accuracy>=0.99'] } } },
  }));
  const trained = run('run', '--name', 'gated', '--profile', 'gated');
  assert.equal(trained.code, 0, trained.stderr);
  const runId = Number(/run (\d+)/.exec(trained.stderr)![1]);
  assert.equal(run('models', 'register', String(runId), 'model.pkl', '--name', 'gated', '--force').code, 0);
  const d = json(run('deploy', 'gated', '--force', '--json'));
  assert.equal(d.status, 'running', d.error);
  const traffic = JSON.parse(readFileSync(join(workspace, '.runboard', 'runs', String(runId), 'traffic.json'), 'utf8')) as Traffic;
  const answer = await post(`${d.url}/predict`, d.token, { instances: traffic.live });
  await post(`${d.url}/feedback`, d.token, { ids: answer.body.ids, labels: traffic.labels });

  const checked = run('check', `deployment:${d.id}`, '--json');
  assert.equal(checked.code, 1, 'live accuracy is below the profile\'s 0.99');
  assert.deepEqual(json(checked).results.map((r: { condition: string }) => r.condition), ['accuracy>=0.99']);
  assert.equal(json(run('monitor', String(d.id), '--json')).gates.source, 'profile gated');

  const retrained = run('retrain', String(d.id), '--promote', '--json');
  assert.equal(retrained.code, 0, retrained.stderr);
  const result = json(retrained);
  assert.equal(result.promoted, null);
  assert.match(result.reason, /promotion gate of profile "gated" failed: accuracy>=2/);
  const still = json(run('deployments', '--json')).find((x: { id: number }) => x.id === d.id);
  assert.equal(still.status, 'running', 'the deployment keeps serving');
  assert.equal(json(run('models', 'gated', '--json')).length, 1, 'nothing was registered');
});
