import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { monitorDeployment } from '../../src/core/monitor/monitor.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { parseProfiles } from '../../src/core/launch/profiles.ts';
import { tempDir } from './helpers.ts';

/**
 * A deployment whose monitoring folder is written here in the server's format (see
 * src/python/runboard_server/monitoring.py): one numeric feature on 4 bins, one categorical
 * feature; three closed windows of 10 rows (ids 1–30) and five open rows (ids 31–35).
 */
function fixture(): { store: Store; id: number; workspace: string; dir: string } {
  const workspace = tempDir();
  mkdirSync(join(workspace, '.runboard'), { recursive: true });
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'));
  after(() => store.close());
  writeFileSync(join(workspace, 'model.bin'), 'model');
  const version = new Registry(store, workspace).register({ name: 'm', file: join(workspace, 'model.bin') });
  const dir = join(workspace, 'monitor');
  mkdirSync(dir);
  const id = store.deployments.create({ modelVersionId: version.id, target: 'local', port: null, config: '{}', forced: null, replacesId: null, createdAt: 0 }, () => dir);
  store.deployments.recordOutcome(id, { status: 'stopped', url: null, port: null, pid: null, config: JSON.stringify({ monitorDir: dir }), error: null });
  const profile = {
    source: 'training', rows: 100, createdAt: 0, baselineRows: null, lastBaselineId: null, task: 'classification',
    features: [
      { name: 'x', kind: 'numeric', edges: [1, 2, 3], coarse: [2], reference: [25, 25, 25, 25], min: 0, max: 4, missing: 0 },
      { name: 'colour', kind: 'categorical', categories: ['a', 'b'], reference: [50, 50], missing: 0 },
    ],
    prediction: { kind: 'classes', labels: ['0', '1'], reference: [50, 50] },
  };
  writeFileSync(join(dir, 'profile.json'), JSON.stringify(profile));
  const calm = { features: [[10, 0, 0, 0.5, 3.5, [3, 2, 3, 2]], [10, 0, 0, { a: 5, b: 5 }]], prediction: { 0: 5, 1: 5 } };
  const shifted = { features: [[10, 0, 0, 0.5, 3.5, [2, 3, 2, 3]], [10, 0, 6, { a: 2, b: 2, c: 6 }]], prediction: { 0: 5, 1: 5 } };
  const windows = [calm, calm, shifted].map((w, k) => ({
    index: k, from: 1000 * k, to: 1000 * k + 999, firstId: 10 * k + 1, lastId: 10 * k + 10, rows: 10, requests: 2, errors: k === 2 ? 1 : 0,
    latency: { 100: 2 }, ...w,
  }));
  // A line cut short by a crash sits between whole ones, and is skipped.
  const lines = windows.map((w) => JSON.stringify(w));
  lines.splice(1, 0, lines[1]!.slice(0, 40));
  writeFileSync(join(dir, 'windows.jsonl'), lines.join('\n') + '\n');
  const open = [31, 32, 33, 34, 35].map((rowId, i) => JSON.stringify({ id: rowId, t: 5000 + i, x: [i === 0 ? null : 9, 'a'], y: 1 }));
  writeFileSync(join(dir, 'rows.jsonl'), open.join('\n') + '\n');
  const labels = [[1, 0], [2, 1], [33, 1], [34, 0]].map(([rowId, label]) => JSON.stringify({ id: rowId, t: 0, label, prediction: rowId === 1 ? 0 : 1 }));
  writeFileSync(join(dir, 'feedback.jsonl'), labels.join('\n') + '\n');
  return { store, id, workspace, dir };
}

test('windows by rows: open rows one by one, older ones as whole server windows; by time; all', () => {
  const { store, id, dir } = fixture();
  const last3 = monitorDeployment(store, id, { windowRows: 3 });
  assert.deepEqual(last3.window, { rows: 3, requests: 0, from: 5002, to: 5004 });
  assert.deepEqual(last3.notes, []);
  assert.deepEqual([last3.performance?.labeled, last3.performance?.accuracy], [2, 0.5], 'labels of rows 33 and 34 only');
  const last12 = monitorDeployment(store, id, { windowRows: 12 });
  assert.equal(last12.window.rows, 15);
  assert.match(last12.notes.join(' '), /rounded to whole server windows/);
  const all = monitorDeployment(store, id);
  assert.deepEqual([all.window.rows, all.traffic.requests, all.traffic.errors], [35, 6, 1]);
  assert.equal(all.performance?.labeled, 4);
  assert.equal(monitorDeployment(store, id, { since: 2000 }).window.rows, 15);
  assert.equal(all.history.points.length, 4, 'three closed windows and the open one');
  assert.deepEqual(all.history.points.map((p) => p.labeled), [2, 0, 0, 2]);
  const merged = monitorDeployment(store, id, { historyPoints: 3 }).history.points;
  assert.deepEqual(merged.map((p) => [p.rows, p.labeled]), [[20, 2], [10, 0], [5, 2]], 'closed windows merged pairwise, the open one kept');
  writeFileSync(join(dir, 'profile.json'), '{"source": "training", ');
  assert.throws(() => monitorDeployment(store, id), /profile\.json is not a monitoring profile/);
});

test('data quality and categorical drift: unseen categories, missing and out-of-range values', () => {
  const { store, id } = fixture();
  const third = monitorDeployment(store, id, { since: 2000 });
  const colour = third.drift!.features.find((f) => f.name === 'colour')!;
  assert.equal(colour.drifted, true);
  assert.ok(colour.js! > 0 && colour.ks === null);
  const quality = new Map(third.quality.map((q) => [q.name, q]));
  assert.deepEqual([quality.get('colour')!.unseen, quality.get('x')!.missing, quality.get('x')!.outOfRange], [6, 1, 4]);
  assert.deepEqual(third.histograms[1]!.bins, ['a', 'b', '(unseen)']);
});

test('thresholds: defaults, then .runboard/deploy.json, then options; live gates without labels fail and say why', () => {
  const { store, id, workspace } = fixture();
  const byDefault = monitorDeployment(store, id, { since: 2000 });
  assert.deepEqual([byDefault.gates.source, byDefault.gates.thresholds.psi, byDefault.gates.ok], ['defaults', 0.2, false]);
  writeFileSync(join(workspace, '.runboard', 'deploy.json'), JSON.stringify({ monitor: { psi: 50, ksAlpha: 1e-300, gates: ['accuracy>=0.9'] } }));
  const lenient = monitorDeployment(store, id, { since: 2000 });
  assert.equal(lenient.gates.source, 'deploy config');
  assert.equal(lenient.drift!.drifted, false);
  const unlabeled = monitorDeployment(store, id, { windowRows: 1 });
  const gate = unlabeled.gates.results.find((r) => r.condition === 'accuracy>=0.9')!;
  assert.equal(gate.ok, false);
  assert.match(gate.reason, /no labeled rows in the window/);
  const overridden = monitorDeployment(store, id, { windowRows: 3, thresholds: { gates: ['accuracy>=0.5'] } });
  assert.deepEqual([overridden.gates.source, overridden.gates.ok], ['options', true]);
  writeFileSync(join(workspace, '.runboard', 'deploy.json'), JSON.stringify({ monitor: { psi: 'high' } }));
  assert.throws(() => monitorDeployment(store, id), /deploy\.json: monitor\.psi must be a positive number/);
  assert.throws(() => monitorDeployment(store, 999), /No deployment "999"/);
});

test('a launch profile may carry monitor thresholds, checked with the profile', () => {
  const profiles = (monitor: unknown) => JSON.stringify({ profiles: { train: { command: ['python3', 'train.py'], monitor } } });
  assert.deepEqual(parseProfiles(profiles({ psi: 0.3, gates: ['f1>=0.8'] })).get('train')!.monitor, { psi: 0.3, gates: ['f1>=0.8'] });
  assert.throws(() => parseProfiles(profiles({ ksAlpha: 2 })), /monitor.*ksAlpha must be a number between 0 and 1/);
  assert.throws(() => parseProfiles(profiles({ psi: 0.2, drift: true })), /monitor\.drift is unknown/);
  assert.throws(() => parseProfiles(profiles({ gates: ['accuracy'] })), /Cannot read the condition "accuracy"/);
});

test('a deployment without monitoring data reports the traffic of its request log', () => {
  const { store, workspace } = fixture();
  const log = join(workspace, 'requests.jsonl');
  writeFileSync(log, [
    { time: 1000, method: 'POST', path: '/predict', status: 200, latency_ms: 2, batch: 3 },
    { time: 2000, method: 'POST', path: '/predict', status: 400, latency_ms: 4, batch: 0 },
  ].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const version = store.models.list()[0]!;
  const id = store.deployments.create({ modelVersionId: version.id, target: 'local', port: null, config: '{}', forced: null, replacesId: null, createdAt: 0 }, () => workspace);
  store.deployments.recordOutcome(id, { status: 'stopped', url: null, port: null, pid: null, config: JSON.stringify({ requestLog: log }), error: null });
  const report = monitorDeployment(store, id);
  assert.deepEqual(report.window, { rows: 3, requests: 2, from: null, to: 2000 });
  assert.deepEqual(report.traffic, { requests: 2, errors: 1, errorRate: 0.5, p50Ms: 2, p95Ms: 4 });
  assert.deepEqual([report.reference, report.drift, report.performance], [null, null, null]);
  assert.match(report.notes[0]!, /keeps no monitoring data/);
});
