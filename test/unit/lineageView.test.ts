// The editor side of the registry and lineage that runs without VS Code: the lineage graph the
// panel draws, which run a model file belongs to, and the sample Test Endpoint sends.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { locateModelFile, registeredVersionOf, suggestedModelName } from '../../src/vscode/commands/shared/modelFiles.ts';
import { parseInstances, sampleFromCsv, sampleFromInputs } from '../../src/vscode/commands/shared/sample.ts';
import { lineage } from '../../src/core/registry/lineage.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { buildGraph } from '../../src/vscode/webviews/lineage/graph.ts';
import { lineageCsp, lineageHtml } from '../../src/vscode/webviews/lineage/html.ts';
import { tempDir, tempStore } from './helpers.ts';
import { COMMIT, recordRun } from './registryFixtures.ts';

function workspaceWithRun() {
  const { store, workspace } = tempStore();
  const files = tempDir();
  const model = join(files, 'model.pkl');
  writeFileSync(model, 'not really a pickle');
  const data = join(files, 'train.csv');
  writeFileSync(data, 'a,b,label\n1,2,0\n3,4,1\n');
  const run = recordRun(store, workspace, { model, data, name: 'trainer', profile: 'train', metrics: { acc: 0.9 } });
  return { store, workspace, run, registry: new Registry(store, workspace) };
}

test('the graph of a deployment runs dataset → run → model version → deployment, left to right, with fingerprint and commit', () => {
  const { store, workspace, run, registry } = workspaceWithRun();
  const version = registry.register({ name: 'clf', run: run.id, artifact: 'model.pkl', aliases: ['champion'] });
  // A deployment row as the core writes one (no server needed for the graph).
  const deploymentId = Number(
    store.db.prepare(`INSERT INTO deployments (model_version_id, target, status, config, created_at) VALUES (?, 'local', 'running', '{}', ?)`).run(version.id, Date.now()).lastInsertRowid,
  );
  store.addEdge({ srcKind: 'model_version', srcId: version.id, dstKind: 'deployment', dstId: deploymentId, relation: 'deployed' });

  const graph = buildGraph(lineage(store, { kind: 'deployment', id: deploymentId }), workspace);
  assert.equal(graph.root, `deployment:${deploymentId}`);
  assert.deepEqual(
    graph.nodes.map((n) => [n.kind, n.column]),
    [['dataset', 0], ['run', 1], ['model_version', 2], ['deployment', 3]],
  );
  const dataset = graph.nodes.find((n) => n.kind === 'dataset')!;
  const fingerprint = store.inputs(run.id)[0]!.fingerprint;
  assert.ok(dataset.fields.some((f) => f.label === 'fingerprint' && f.full === fingerprint && f.value === `${fingerprint.slice(0, 12)}…`));
  const runNode = graph.nodes.find((n) => n.kind === 'run')!;
  assert.ok(runNode.fields.some((f) => f.label === 'commit' && f.full?.startsWith(COMMIT)));
  assert.equal(runNode.openable, true);
  assert.equal(graph.nodes.find((n) => n.kind === 'deployment')!.root, true);
  assert.equal(graph.nodes.find((n) => n.kind === 'model_version')!.status, 'champion');
  assert.deepEqual(graph.edges.map((e) => e.relation).sort(), ['deployed', 'input', 'produced']);
  assert.deepEqual(graph.notes, []);
});

test('a model whose run was deleted still shows its run, data and commit from the registration snapshot', () => {
  const { store, workspace, run, registry } = workspaceWithRun();
  const version = registry.register({ name: 'clf', run: run.id, artifact: 'model.pkl' });
  store.deleteRun(run.id);
  const graph = buildGraph(lineage(store, { kind: 'model_version', id: version.id }), workspace);
  const ghost = graph.nodes.find((n) => n.kind === 'run')!;
  assert.equal(ghost.key, `run:snapshot:${run.id}`);
  assert.equal(ghost.missing, true);
  assert.equal(ghost.openable, false);
  assert.ok(ghost.fields.some((f) => f.label === 'commit' && f.full?.startsWith(COMMIT)));
  assert.equal(graph.nodes.filter((n) => n.kind === 'dataset').length, 1);
  assert.deepEqual(graph.nodes.map((n) => n.column), [0, 1, 2]);
  assert.match(graph.notes.join(' '), /was deleted/);
});

test('a file outside any run registers without lineage, and the graph says so', () => {
  const { store, workspace, registry } = workspaceWithRun();
  const loose = join(workspace, 'exported', 'my model.pkl');
  mkdirSync(join(workspace, 'exported'));
  writeFileSync(loose, 'bytes');
  const located = locateModelFile(store, registry, loose);
  assert.equal(located.kind, 'file');
  assert.match(located.kind === 'file' ? located.reason : '', /not inside a run's folder/);
  assert.equal(suggestedModelName(located), 'my-model');
  assert.equal(registeredVersionOf(registry, located), undefined);
  const version = registry.register({ name: 'loose', file: loose });
  assert.equal(registeredVersionOf(registry, locateModelFile(store, registry, loose))?.id, version.id);
  const graph = buildGraph(lineage(store, { kind: 'model_version', id: version.id }), workspace);
  assert.deepEqual(graph.nodes.map((n) => n.kind), ['model_version']);
  assert.match(graph.notes.join(' '), /registered from a file/);
});

test("a file in a run's folder is matched to its run and artifact; the registry's copy to its version", () => {
  const { store, registry, run } = workspaceWithRun();
  const located = locateModelFile(store, registry, join(run.runDir!, 'model.pkl'));
  assert.equal(located.kind, 'run');
  assert.equal(located.kind === 'run' && located.run.id, run.id);
  assert.equal(located.kind === 'run' && located.artifact, 'model.pkl');
  assert.equal(suggestedModelName(located), 'train');
  const version = registry.register({ name: 'clf', run: run.id, artifact: 'model.pkl' });
  assert.equal(registeredVersionOf(registry, located)?.id, version.id);
  const stored = locateModelFile(store, registry, version.storedPath);
  assert.equal(stored.kind, 'stored');
  // A folder named like a run's whose run is not in the database: no lineage, and why.
  const orphan = locateModelFile(store, registry, join(registry.workspace, '.runboard', 'runs', '999', 'model.pkl'));
  assert.equal(orphan.kind, 'file');
});

test('the sample drops the label column (by name, else the last) and non-numeric rows', () => {
  const dir = tempDir();
  const named = join(dir, 'named.csv');
  writeFileSync(named, 'label,x1,x2\n1,0.5,2\n0,1.5,-1\nnan?,x,y\n1,3,4\n0,5,6\n');
  assert.deepEqual(sampleFromCsv(named), { instances: [[0.5, 2], [1.5, -1], [3, 4]], source: `first 3 rows of ${named} without its "label" column` });
  const bare = join(dir, 'bare.csv');
  writeFileSync(bare, '0,0,0\n1,1,1\n');
  assert.deepEqual(sampleFromCsv(bare, 5)?.instances, [[0, 0], [1, 1]]);
  const species = join(dir, 'iris.csv');
  writeFileSync(species, 'a,b,species\n1,2,setosa\n');
  assert.deepEqual(sampleFromCsv(species)?.instances, [[1, 2]]);
  const text = join(dir, 'notes.csv');
  writeFileSync(text, 'just,words\nno,numbers\n');
  assert.equal(sampleFromCsv(text), undefined);
  assert.deepEqual(sampleFromInputs([{ path: 'missing.csv' }, { path: 'train.py' }, { path: 'named.csv' }], dir, 1)?.instances, [[0.5, 2]]);
});

test('typed request bodies: {"instances": …} or bare rows of finite numbers', () => {
  assert.deepEqual(parseInstances('{"instances": [[1, 2.5]]}'), [[1, 2.5]]);
  assert.deepEqual(parseInstances('[[1], [2]]'), [[1], [2]]);
  assert.throws(() => parseInstances('{"instances": []}'), /non-empty list/);
  assert.throws(() => parseInstances('[["a"]]'), /numbers/);
  assert.throws(() => parseInstances('{'), /Not JSON/);
});

test('the page allows only its nonce script and the bundle folder', () => {
  const csp = lineageCsp('https://webview.example', 'abc');
  assert.match(csp, /^default-src 'none'; script-src 'nonce-abc'; style-src https:\/\/webview\.example/);
  assert.doesNotMatch(csp, /unsafe/);
  const html = lineageHtml({ cspSource: 'https://webview.example', nonce: 'abc', scriptUri: 'https://x/lineage.js?a=1&b="2"', styleUri: 'https://x/lineage.css' });
  assert.match(html, /<script nonce="abc" src="https:\/\/x\/lineage\.js\?a=1&amp;b=&quot;2&quot;"><\/script>/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});
