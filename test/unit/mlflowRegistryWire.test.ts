import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveTemp } from './mlflowArtifactsHarness.ts';
import { readSamples, shape, type Sample } from './mlflowRegistryWireHarness.ts';

/**
 * The real MLflow 2.12.2 server's answers to the real client's artifact, log-inputs, log-model
 * and registry calls (recorded in ../shared/mlflow-peer/wire/), replayed against Runboard: the
 * same status and the same JSON shape (keys and value types), with the recorded run and
 * experiment ids swapped for Runboard's.
 */
const SAMPLES = readSamples('artifacts_registry_v2.12.2.jsonl');

const parsed = (text: string | null): unknown => {
  try {
    return text === null ? undefined : JSON.parse(text);
  } catch {
    return undefined; // recorded bodies were cut at 600 characters
  }
};

test('recorded artifact, log-inputs, log-model and registry exchanges replay with the same status and JSON shape', async () => {
  const { store, call } = await serveTemp();
  const probe = store.createRun({ experiment: 'probe', name: 'probe' });
  const trained = store.createRun({ experiment: 'probe', name: 'autolog' });
  const experimentId = String(probe.experimentId);
  const recordedRun = (s: Sample) => /[0-9a-f]{32}/.exec(`${s.path} ${s.query ?? ''} ${s.req_body ?? ''}`)?.[0];
  const ids = new Map<string, string>();
  for (const s of SAMPLES) {
    const id = recordedRun(s);
    if (id && !ids.has(id)) ids.set(id, ids.size === 0 ? probe.mlflowId : trained.mlflowId);
  }
  const swap = (text: string): string => {
    let out = text.replace(/mlflow-artifacts:\/6\//g, `mlflow-artifacts:/${experimentId}/`).replace(/artifacts\/6\//g, `artifacts/${experimentId}/`).replace(/path=6%2F/g, `path=${experimentId}%2F`);
    for (const [recorded, ours] of ids) out = out.replaceAll(recorded, ours);
    return out;
  };
  // What the recorded session had uploaded besides the one PUT sampled, and the model folder autolog uploaded.
  await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${probe.mlflowId}/artifacts/d.json`, '{"k": [1, 2]}');
  await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${probe.mlflowId}/artifacts/sub/b.txt`, 'b');
  for (const name of ['MLmodel', 'model.pkl', 'conda.yaml']) await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${trained.mlflowId}/artifacts/model/${name}`, name);
  // The two request bodies the recording cut short, completed with the fields the client sends.
  const completed: Record<string, unknown> = {
    '/api/2.0/mlflow/runs/log-inputs': {
      run_id: trained.mlflowId,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'dataset', digest: '2bf3ace3', source_type: 'code', source: '{"tags": {}}', schema: '{}', profile: '{"features_shape": [200, 4], "features_nbytes": 6400}' } }],
    },
    '/api/2.0/mlflow/runs/log-model': {
      run_id: trained.mlflowId,
      model_json: JSON.stringify({ run_id: trained.mlflowId, artifact_path: 'model', utc_time_created: '2026-11-25 12:49:01.011893', flavors: { sklearn: { pickled_model: 'model.pkl' } } }),
    },
  };

  for (const sample of SAMPLES) {
    const url = swap(`${sample.path}${sample.query ? `?${sample.query}` : ''}`);
    const body = completed[sample.path] ?? (sample.req_body === null ? undefined : sample.req_ctype === 'application/json' ? JSON.parse(swap(sample.req_body)) : sample.req_body);
    const reply = await call(sample.method, url, body);
    const what = `${sample.method} ${sample.path}`;
    assert.equal(reply.status, sample.status, `${what}: ${reply.text}`);
    const expected = parsed(sample.resp_body);
    if (sample.path.startsWith('/api/2.0/mlflow-artifacts/artifacts/') && sample.method === 'GET') assert.equal(reply.text, sample.resp_body, what);
    else if (expected !== undefined) assert.deepEqual(shape(reply.json), shape(expected), what);
    else {
      // Cut short in the recording: every key it shows is in ours.
      const ours = new Set([...reply.text.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]));
      for (const [, key] of sample.resp_body!.matchAll(/"([a-z_]+)":/g)) assert.ok(ours.has(key), `${what}: ${key}`);
    }
  }
  assert.deepEqual(store.inputs(trained.id).map((i) => [i.path, i.fingerprint, i.size]), [['dataset', '2bf3ace3', 6400]]);
  assert.equal(store.artifacts(trained.id).find((a) => a.path === 'artifacts/model')?.kind, 'model');
});
