// The lineage panel's graph of the monitoring loop: a real served model retrained from its
// production rows and promoted (`runboard retrain --promote`), drawn deployment → retrain run →
// new version → deployment, with the production data beside the run it fed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { lineage } from '../../src/core/registry/lineage.ts';
import { Store } from '../../src/core/store/store.ts';
import { buildGraph } from '../../src/vscode/webviews/lineage/graph.ts';
import { deployMonitored, stopAll, type MonitoredDeployment } from '../fixtures/monitoredDeployment.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';

const workspace = tempDir();
let store: Store;
let served: MonitoredDeployment;
let retrained: { run: number; promoted: { version: number; deployment: number } };

before(async () => {
  served = await deployMonitored(workspace);
  await served.predict(served.traffic.shifted);
  const result = cli(['retrain', String(served.id), '--promote', '--json'], { cwd: workspace });
  assert.equal(result.code, 0, result.stderr);
  retrained = json(result);
  store = Store.open(join(workspace, '.runboard', 'runboard.db'));
});

after(async () => {
  await stopAll(store);
  store.close();
});

test('from the new deployment: the loop runs left to right, the production data sits beside the retrain run, and a note says the loop', { timeout: 180_000 }, () => {
  const graph = buildGraph(lineage(store, { kind: 'deployment', id: retrained.promoted.deployment }), workspace);
  const column = (key: string) => graph.nodes.find((n) => n.key === key)?.column ?? assert.fail(`no node ${key}`);
  const loop = [`deployment:${served.id}`, `run:${retrained.run}`, `model_version:${retrained.promoted.version}`, `deployment:${retrained.promoted.deployment}`];
  const columns = loop.map(column);
  assert.deepEqual(columns, [...columns].sort((a, b) => a - b), `left to right: ${JSON.stringify(columns)}`);
  assert.equal(new Set(columns).size, 4);
  assert.ok(graph.edges.some((e) => e.from === loop[0] && e.to === loop[1] && e.relation === 'retrain'));

  const production = graph.nodes.find((n) => n.kind === 'dataset' && n.title.startsWith('production-'))!;
  assert.equal(production.column, column(loop[1]!) - 1, 'the production data sits just left of the run it fed');

  const retrainRun = graph.nodes.find((n) => n.key === loop[1])!;
  assert.deepEqual(retrainRun.fields[0], { label: 'retrains', value: `deployment ${served.id} on its served rows` });
  assert.ok(
    graph.notes.includes(`Retrained from production: deployment ${served.id}'s served rows → ${retrainRun.title} → churn@${retrained.promoted.version} → deployment ${retrained.promoted.deployment}.`),
    graph.notes.join('\n'),
  );
  assert.deepEqual(graph.nodes.find((n) => n.key === loop[3])!.fields.find((f) => f.label === 'replaces'), { label: 'replaces', value: `deployment ${served.id}` });
});

test('from the first deployment: what came of it downstream is the same loop', () => {
  const graph = buildGraph(lineage(store, { kind: 'deployment', id: served.id }), workspace);
  assert.ok(graph.nodes.some((n) => n.key === `deployment:${retrained.promoted.deployment}`), 'the promoted deployment is downstream');
  assert.match(graph.notes.join('\n'), new RegExp(`Retrained from production: deployment ${served.id}'s served rows → run ${retrained.run} · `));
});
