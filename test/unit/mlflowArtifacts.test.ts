import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeArtifactRoutes, safeArtifactPath } from '../../src/core/mlflow/artifacts.ts';
import { MLFLOW_ROUTES } from '../../src/core/mlflow/routeTable.ts';
import { MlflowError } from '../../src/core/mlflow/routes.ts';
import { hashModel } from '../../src/core/registry/registry.ts';
import { tempDir } from './helpers.ts';
import { artifactUrl, serveTemp } from './mlflowArtifactsHarness.ts';

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

test('PUT writes into the run folder and records the artifact; GET streams it back; listing is MLflow\'s shape', async () => {
  const { store, call } = await serveTemp();
  const run = store.createRun({ name: 'mlflow' });
  assert.equal((await call('PUT', artifactUrl(run, 'a.txt'), 'hi\n', { 'Content-Type': 'text/plain' })).status, 200);
  assert.deepEqual((await call('PUT', artifactUrl(run, 'sub/d.json'), '{"k": [1]}')).json, {});

  const recorded = store.run(run.id)!;
  assert.ok(recorded.runDir, 'a run created through MLflow gets its folder on the first upload');
  assert.equal(readFileSync(join(recorded.runDir, 'artifacts', 'a.txt'), 'utf8'), 'hi\n');
  assert.deepEqual(
    store.artifacts(run.id).map(({ path, size, sha256: sha, kind }) => ({ path, size, sha, kind })),
    [
      { path: 'artifacts/a.txt', size: 3, sha: sha256('hi\n'), kind: 'other' },
      { path: 'artifacts/sub/d.json', size: 10, sha: sha256('{"k": [1]}'), kind: 'data' },
    ],
  );

  const got = await call('GET', artifactUrl(run, 'a.txt'));
  assert.equal(got.status, 200);
  assert.equal(got.text, 'hi\n');
  assert.equal(got.headers.get('content-disposition'), 'attachment; filename=a.txt');

  const listPath = `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`0/${run.mlflowId}/artifacts`)}`;
  assert.deepEqual((await call('GET', listPath)).json, { files: [{ path: 'a.txt', is_dir: false, file_size: 3 }, { path: 'sub', is_dir: true }] });
  assert.deepEqual((await call('GET', `${listPath}%2Fsub`)).json, { files: [{ path: 'd.json', is_dir: false, file_size: 10 }] });
  assert.deepEqual((await call('GET', `${listPath}%2Fa.txt`)).json, {}, 'a file lists nothing, which is how the client tells files from folders');
  assert.deepEqual((await call('GET', `${listPath}%2Fnone`)).json, {});

  const tracking = await call('GET', `/api/2.0/mlflow/artifacts/list?run_id=${run.mlflowId}&path=sub`);
  assert.deepEqual(tracking.json, { root_uri: `mlflow-artifacts:/0/${run.mlflowId}/artifacts`, files: [{ path: 'sub/d.json', is_dir: false, file_size: 10 }] });
  assert.equal((await call('PUT', artifactUrl(run, '100%25.txt'), 'percent')).status, 200);
  assert.equal((await call('GET', artifactUrl(run, '100%25.txt'))).text, 'percent');
});

test('the npm mlflow client lists a run\'s artifacts through the tracking API', async () => {
  const { store, server, auth, call } = await serveTemp();
  const run = store.createRun();
  await call('PUT', artifactUrl(run, 'model/MLmodel'), 'flavors: {}\n');
  const { default: MLflow } = (await import('mlflow')) as unknown as { default: new (args: { endpoint: string; headers: Record<string, string> }) => { Artifacts: { list(args: { run_id: string; path?: string }): Promise<unknown> } } };
  const client = new MLflow({ endpoint: server.url, headers: auth });
  assert.deepEqual(await client.Artifacts.list({ run_id: run.mlflowId }), { root_uri: `mlflow-artifacts:/0/${run.mlflowId}/artifacts`, files: [{ path: 'model', is_dir: true }] });
  assert.deepEqual(await client.Artifacts.list({ run_id: run.mlflowId, path: 'model' }), {
    root_uri: `mlflow-artifacts:/0/${run.mlflowId}/artifacts`,
    files: [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }],
  });
  await assert.rejects(client.Artifacts.list({ run_id: 'f'.repeat(32) }), /RESOURCE_DOES_NOT_EXIST/);
});

test('paths are checked as MLflow checks them: "..", encoded "..", absolute, backslash, NUL and "#" are "Invalid path"', () => {
  for (const bad of ['../../x', 'a/../../x', '%2e%2e/x', '%252e%252e/x', '/etc/passwd', 'C:/x', '..\\x', 'a%5c..%5cx', 'a\0b', 'a%00b', 'a#b']) {
    assert.throws(() => safeArtifactPath(bad), (e: Error) => e instanceof MlflowError && e.errorCode === 'INVALID_PARAMETER_VALUE' && e.message === 'Invalid path', bad);
  }
  assert.equal(safeArtifactPath('0/abc/artifacts/./sub//f%20g.txt'), '0/abc/artifacts/sub/f g.txt');
  assert.equal(safeArtifactPath('0/abc/artifacts/100%.txt'), '0/abc/artifacts/100%.txt', 'a lone % is text, as Python\'s unquote leaves it');
});

test('traversal over HTTP is refused with 400 INVALID_PARAMETER_VALUE and writes nothing outside the run folder', async () => {
  const { store, workspace, call } = await serveTemp();
  const run = store.createRun();
  await call('PUT', artifactUrl(run, 'ok.txt'), 'ok');
  const prefix = artifactUrl(run, '');
  for (const bad of ['..%2F..%2F..%2Fescaped.txt', '%2e%2e/%2e%2e/%2e%2e/escaped.txt', '%252e%252e%252f%252e%252e%252fescaped.txt', 'a%5c..%5c..%5cescaped.txt', 'x%00.txt']) {
    for (const method of ['PUT', 'GET']) {
      const reply = await call(method, `${prefix}${bad}`, method === 'PUT' ? 'evil' : undefined);
      assert.equal(reply.status, 400, `${method} ${bad}`);
      assert.equal(reply.json.error_code, 'INVALID_PARAMETER_VALUE', `${method} ${bad}`);
    }
  }
  const absolute = await call('PUT', `/api/2.0/mlflow-artifacts/artifacts//tmp/escaped.txt`, 'evil');
  assert.equal(absolute.status, 400);
  const listing = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`0/${run.mlflowId}/artifacts/../../..`)}`);
  assert.equal(listing.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.ok(!existsSync(join(workspace, 'escaped.txt')) && !existsSync(join(workspace, '.runboard', 'escaped.txt')) && !existsSync('/tmp/escaped.txt'));
  assert.deepEqual(store.artifacts(run.id).map((a) => a.path), ['artifacts/ok.txt']);
});

test('a symbolic link in the run folder is never written, read or listed through', async () => {
  const { store, call } = await serveTemp();
  const run = store.createRun();
  await call('PUT', artifactUrl(run, 'ok.txt'), 'ok');
  const runDir = store.run(run.id)!.runDir!;
  const outside = tempDir();
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(outside, join(runDir, 'artifacts', 'linked'));
  symlinkSync(join(outside, 'secret.txt'), join(runDir, 'artifacts', 'secret.txt'));

  const put = await call('PUT', artifactUrl(run, 'linked/x.txt'), 'evil');
  assert.equal(put.status, 400);
  assert.match(put.json.message!, /linked is a symbolic link/);
  assert.deepEqual(readdirSync(outside), ['secret.txt']);
  const read = await call('GET', artifactUrl(run, 'secret.txt'));
  assert.equal(read.status, 400);
  assert.doesNotMatch(read.text, /secret$/);
  assert.equal((await call('GET', artifactUrl(run, 'linked/secret.txt'))).status, 400);
  const listed = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`0/${run.mlflowId}/artifacts`)}`);
  assert.deepEqual(listed.json, { files: [{ path: 'ok.txt', is_dir: false, file_size: 2 }] }, 'links are left out of listings');

  // A linked run folder under .runboard (a cloned repository could ship one) is refused whole.
  const other = store.createRun();
  const otherDir = join(store.run(run.id)!.runDir!, '..', String(other.id));
  symlinkSync(outside, otherDir);
  store.setRunDir(other.id, otherDir);
  assert.equal((await call('PUT', artifactUrl(store.run(other.id)!, 'x.txt'), 'evil')).status, 400);
  assert.deepEqual(readdirSync(outside), ['secret.txt']);
});

test('without the bearer token every artifact endpoint answers 401 and writes nothing', async () => {
  const { store, server } = await serveTemp();
  const run = store.createRun();
  const put = await fetch(`${server.url}${artifactUrl(run, 'a.txt')}`, { method: 'PUT', body: 'x' });
  assert.equal(put.status, 401);
  assert.equal(((await put.json()) as { error_code: string }).error_code, 'UNAUTHENTICATED');
  const wrong = await fetch(`${server.url}${artifactUrl(run, 'a.txt')}`, { headers: { Authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);
  assert.equal(store.run(run.id)!.runDir, null);
});

test('a missing run, or a run under another experiment id, is RESOURCE_DOES_NOT_EXIST (404)', async () => {
  const { store, call } = await serveTemp();
  const run = store.createRun();
  for (const path of [`/api/2.0/mlflow-artifacts/artifacts/0/${'a'.repeat(32)}/artifacts/x.txt`, `/api/2.0/mlflow-artifacts/artifacts/77/${run.mlflowId}/artifacts/x.txt`]) {
    const reply = await call('PUT', path, 'x');
    assert.equal(reply.status, 404, path);
    assert.equal(reply.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  }
  const missingFile = await call('GET', artifactUrl(run, 'never.txt'));
  assert.equal(missingFile.status, 404);
  assert.equal(missingFile.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const notARunPath = await call('PUT', '/api/2.0/mlflow-artifacts/artifacts/loose.txt', 'x');
  assert.equal(notARunPath.json.error_code, 'INVALID_PARAMETER_VALUE');
  const aboveTheRoot = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`0/${run.mlflowId}`)}`);
  assert.equal(aboveTheRoot.json.error_code, 'INVALID_PARAMETER_VALUE', 'only the run\'s artifact root and below are served');
});

/** A PUT whose body is sent in pieces, with `between` run after the first one is written. */
function chunkedPut(url: string, token: string, chunks: Buffer[], between: () => Promise<void>, contentLength?: number) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, ...(contentLength !== undefined ? { 'Content-Length': contentLength } : {}) } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    void (async () => {
      req.write(chunks[0]);
      await between();
      for (const chunk of chunks.slice(1)) req.write(chunk);
      req.end();
    })().catch(reject);
  });
}

test('a big artifact streams to disk as it arrives (a hidden temporary file grows), then is renamed and recorded with its sha256', async () => {
  const { store, server, call } = await serveTemp();
  const run = store.createRun();
  await call('PUT', artifactUrl(run, 'first.txt'), 'x');
  const dir = join(store.run(run.id)!.runDir!, 'artifacts');
  const chunks = Array.from({ length: 8 }, () => randomBytes(4 * 1024 * 1024));
  const whole = Buffer.concat(chunks);
  let seenWhileUploading = 0;
  const reply = await chunkedPut(`${server.url}${artifactUrl(run, 'weights.bin')}`, server.token, chunks, async () => {
    for (let i = 0; i < 1000 && seenWhileUploading < chunks[0]!.length; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const temp = readdirSync(dir).find((n) => /^\.weights\.bin\.upload-[0-9a-f]{8}$/.test(n));
      seenWhileUploading = temp ? statSync(join(dir, temp)).size : 0;
    }
  });
  assert.equal(reply.status, 200, reply.body);
  assert.equal(seenWhileUploading, chunks[0]!.length, 'the first 4 MiB were on disk before the rest was sent');
  assert.deepEqual(readdirSync(dir).sort(), ['first.txt', 'weights.bin'], 'no temporary file is left');
  const artifact = store.artifacts(run.id).find((a) => a.path === 'artifacts/weights.bin')!;
  assert.deepEqual([artifact.size, artifact.sha256, artifact.kind], [whole.length, sha256(whole), 'other']);
  const back = await fetch(`${server.url}${artifactUrl(run, 'weights.bin')}`, { headers: { Authorization: `Bearer ${server.token}` } });
  assert.equal(sha256(Buffer.from(await back.arrayBuffer())), sha256(whole));
});

test('an artifact over the size limit is refused (413), declared or not, and leaves nothing behind', async () => {
  const { store, server, call } = await serveTemp([...makeArtifactRoutes(1024 * 1024), ...MLFLOW_ROUTES]);
  const run = store.createRun();
  await call('PUT', artifactUrl(run, 'small.bin'), randomBytes(1024 * 1024));
  const declared = await call('PUT', artifactUrl(run, 'big.bin'), randomBytes(1024 * 1024 + 1));
  assert.equal(declared.status, 413);
  assert.equal(declared.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(declared.json.message!, /at most 1048576 bytes/);
  const streamed = await chunkedPut(`${server.url}${artifactUrl(run, 'big.bin')}`, server.token, [randomBytes(600 * 1024), randomBytes(600 * 1024)], async () => {});
  assert.equal(streamed.status, 413);
  assert.deepEqual(readdirSync(join(store.run(run.id)!.runDir!, 'artifacts')), ['small.bin']);
  assert.deepEqual(store.artifacts(run.id).map((a) => a.path), ['artifacts/small.bin']);
});

test('log-model appends to mlflow.log-model.history and records the uploaded model folder as one model artifact', async () => {
  const { store, call } = await serveTemp();
  const run = store.createRun();
  await call('PUT', artifactUrl(run, 'model/MLmodel'), 'flavors: {}\n');
  await call('PUT', artifactUrl(run, 'model/model.pkl'), 'pickle');
  const model = { run_id: run.mlflowId, artifact_path: 'model', utc_time_created: '2026-11-25 12:49:01.011893', flavors: { sklearn: { pickled_model: 'model.pkl' } } };
  const first = await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: run.mlflowId, model_json: JSON.stringify(model) });
  assert.deepEqual([first.status, first.json], [200, {}]);
  await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: run.mlflowId, model_json: JSON.stringify({ ...model, artifact_path: 'elsewhere' }) });
  const history = JSON.parse(store.tags(run.id)['mlflow.log-model.history']!) as { artifact_path: string }[];
  assert.deepEqual(history.map((m) => m.artifact_path), ['model', 'elsewhere']);
  const folder = store.artifacts(run.id).find((a) => a.path === 'artifacts/model')!;
  const expected = hashModel(join(store.run(run.id)!.runDir!, 'artifacts', 'model'));
  assert.deepEqual([folder.kind, folder.sha256, folder.size], ['model', expected.sha256, expected.size]);
  assert.ok(!store.artifacts(run.id).some((a) => a.path === 'artifacts/elsewhere'), 'a model not uploaded here records no artifact');

  const missing = await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: run.mlflowId, model_json: JSON.stringify({ artifact_path: 'm' }) });
  assert.equal(missing.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(missing.json.message!, /missing mandatory fields: \{'flavors', 'utc_time_created', 'run_id'\}/);
  const malformed = await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: run.mlflowId, model_json: '{not json' });
  assert.match(malformed.json.message!, /Malformed model info/);
});

test('log-inputs records each dataset as an input by digest: the same data logged by two runs is one dataset', async () => {
  const { store, call } = await serveTemp();
  const [a, b] = [store.createRun(), store.createRun()];
  const dataset = (name: string, digest: string, source: unknown) => ({
    tags: [{ key: 'mlflow.data.context', value: 'train' }],
    dataset: { name, digest, source_type: 'local', source: JSON.stringify(source), profile: JSON.stringify({ features_nbytes: 4800, targets_nbytes: 1200, num_rows: 150 }) },
  });
  for (const run of [a, b]) {
    const reply = await call('POST', '/api/2.0/mlflow/runs/log-inputs', { run_id: run.mlflowId, datasets: [dataset('iris', '2bf3ace3', { uri: '/data/iris.csv' }), dataset('dataset', '77aa', { tags: {} })] });
    assert.deepEqual([reply.status, reply.json], [200, {}]);
  }
  const inputs = store.inputs(a.id).map(({ path, fingerprint, size }) => ({ path, fingerprint, size }));
  assert.deepEqual(inputs, [
    { path: '/data/iris.csv', fingerprint: '2bf3ace3', size: 6000 },
    { path: 'dataset', fingerprint: '77aa', size: 6000 },
  ]);
  assert.deepEqual(store.inputs(b.id).map((i) => i.datasetId), store.inputs(a.id).map((i) => i.datasetId));
  assert.ok(store.upstream('run', a.id).some((e) => e.srcKind === 'dataset' && e.relation === 'input'));

  const bad = await call('POST', '/api/2.0/mlflow/runs/log-inputs', { run_id: a.mlflowId, datasets: [{ dataset: { name: 'x' } }] });
  assert.equal(bad.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.equal(store.inputs(a.id).length, 2, 'a bad batch records nothing');
});

test('a model folder uploaded file by file hashes to what the registry computes', async () => {
  const { store, call } = await serveTemp();
  const run = store.createRun();
  const local = tempDir();
  mkdirSync(join(local, 'model'));
  for (const [name, text] of [['MLmodel', 'a'], ['conda.yaml', 'b']]) {
    writeFileSync(join(local, 'model', name!), text!);
    await call('PUT', artifactUrl(run, `model/${name}`), text);
  }
  assert.equal(hashModel(join(store.run(run.id)!.runDir!, 'artifacts', 'model')).sha256, hashModel(join(local, 'model')).sha256);
});
