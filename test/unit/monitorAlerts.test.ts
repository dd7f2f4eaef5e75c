// The badge and notification rules of monitoring (src/vscode/monitorAlerts.ts), on plain Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MonitorReport } from '../../src/core/monitor/report.ts';
import { ALERT_MEMORY_KEY, alertOf, CrossingDetector, describeAlert, type AlertMemory } from '../../src/vscode/monitorAlerts.ts';
import { monitorReport, type ReportShape } from '../fixtures/monitorReports.ts';

const report = (shape: ReportShape): MonitorReport => monitorReport(shape).report;
/** The fixture's reports are of deployment 3. */
const three = { id: 3, createdAt: 1_700_000_000_000 };

test('no alert without drift, without a ready reference, or with a gate that has no value yet', () => {
  assert.equal(alertOf(report({})), undefined);
  assert.equal(alertOf(report({ reference: 'collecting', feedback: false })), undefined);
  assert.equal(alertOf(report({ reference: false, traffic: false, feedback: false })), undefined);
});

test('an alert names the drifted features, prediction drift and the failed gates with their values', () => {
  const alert = alertOf(report({ drifted: ['petal_length', 'petal_width'] }))!;
  assert.deepEqual(alert.features, ['petal_length', 'petal_width']);
  assert.equal(alert.prediction, true);
  assert.deepEqual(alert.gates.map((g) => g.condition), ['accuracy>=0.9']);
  assert.equal(describeAlert(alert), 'drift in petal_length, petal_width; prediction drift; accuracy>=0.9 failed (0.7)');
  const many = { features: Array.from({ length: 9 }, (_, i) => `f${i}`), prediction: false, gates: [] };
  assert.equal(describeAlert(many), 'drift in f0, f1, f2, f3, f4 and 4 more');
});

test('once per crossing: a drift is notified when it starts, not at every refresh while it lasts', () => {
  const detector = new CrossingDetector();
  assert.equal(detector.observe(three, report({})), undefined, 'calm');
  const first = detector.observe(three, report({ drifted: ['petal_length'] }));
  assert.deepEqual(first?.crossed.features, ['petal_length']);
  assert.equal(first?.deployment, 3);
  assert.equal(detector.observe(three, report({ drifted: ['petal_length'] })), undefined, 'the same drift again');
  assert.equal(detector.observe(three, report({ drifted: ['petal_length'] })), undefined, 'and again');
});

test('a new feature crossing while others stay drifted is notified alone; a recovery then a relapse is a new crossing', () => {
  const detector = new CrossingDetector();
  detector.observe(three, report({ drifted: ['petal_length'] }));
  const second = detector.observe(three, report({ drifted: ['petal_length', 'sepal_width'] }));
  assert.deepEqual(second?.crossed.features, ['sepal_width']);
  assert.deepEqual(second?.alert.features, ['sepal_width', 'petal_length'], 'the whole alert, in reference order');
  assert.equal(second?.crossed.prediction, false, 'prediction drift was already said');
  assert.equal(second?.crossed.gates.length, 0, 'the failing gate was already said');
  assert.equal(detector.observe(three, report({})), undefined, 'recovered');
  assert.deepEqual(detector.observe(three, report({ drifted: ['petal_length'] }))?.crossed.features, ['petal_length'], 'crossed anew');
});

test('deployments are tracked apart, and a forgotten one starts afresh', () => {
  const detector = new CrossingDetector();
  const a = report({ drifted: ['petal_width'] });
  const b = { ...report({ drifted: ['petal_width'] }), deployment: 4 };
  assert.ok(detector.observe(three, a));
  assert.ok(detector.observe({ id: 4, createdAt: three.createdAt }, b), 'another deployment crossing the same threshold is its own crossing');
  assert.equal(detector.observe(three, a), undefined);
  detector.forget(3);
  assert.ok(detector.observe(three, a));
});

test('a gate that starts failing when labels arrive is a crossing of its own', () => {
  const detector = new CrossingDetector();
  assert.equal(detector.observe(three, report({ feedback: false })), undefined);
  const failing: MonitorReport = report({ feedback: false });
  failing.gates.results = [{ condition: 'accuracy>=0.9', ok: false, actual: 0.8, reason: 'accuracy 0.80 < 0.9' }];
  assert.deepEqual(detector.observe(three, failing)?.crossed, { features: [], prediction: false, gates: [{ condition: 'accuracy>=0.9', actual: 0.8 }] });
});

/** workspaceState's contract, kept in a Map and as JSON (VS Code stores it so), so a copy outlives the detector as it does a window. */
class JsonMemory implements AlertMemory {
  readonly values = new Map<string, string>();
  get<T>(key: string): T | undefined {
    const json = this.values.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.stringify(value));
  }
}

test('after a restart, a drift already notified is not notified again; a new feature drifting or a relapse is', () => {
  const memory = new JsonMemory();
  assert.ok(new CrossingDetector(memory).observe(three, report({ drifted: ['petal_length'] })), 'the first crossing');

  const restarted = new CrossingDetector(memory);
  assert.equal(restarted.observe(three, report({ drifted: ['petal_length'] })), undefined, 'already said before the restart');
  assert.deepEqual(restarted.observe(three, report({ drifted: ['petal_length', 'sepal_width'] }))?.crossed.features, ['sepal_width']);

  const again = new CrossingDetector(memory);
  assert.equal(again.observe(three, report({})), undefined, 'recovered while the window was closed');
  const relapse = new CrossingDetector(memory).observe(three, report({ drifted: ['petal_length'] }));
  assert.deepEqual(relapse?.crossed.features, ['petal_length'], 'ok → drift across a restart is a new crossing');
});

test('the memory is of one deployment: another one with the same id (another database) starts afresh; stopped ones are forgotten', () => {
  const memory = new JsonMemory();
  new CrossingDetector(memory).observe(three, report({ drifted: ['petal_length'] }));
  const other = { id: 3, createdAt: three.createdAt + 1 };
  assert.ok(new CrossingDetector(memory).observe(other, report({ drifted: ['petal_length'] })), 'same id, created at another time');

  const detector = new CrossingDetector(memory);
  detector.retain([{ id: 4, createdAt: 5 }]);
  assert.deepEqual(memory.get(ALERT_MEMORY_KEY), {}, 'deployment 3 is no longer live');
  detector.observe(three, report({ drifted: ['petal_length'] }));
  detector.forget(3);
  assert.deepEqual(memory.get(ALERT_MEMORY_KEY), {});
});

test("Don't Show Again mutes a deployment's later crossings, across restarts, and no other deployment's", () => {
  const memory = new JsonMemory();
  const detector = new CrossingDetector(memory);
  assert.ok(detector.observe(three, report({ drifted: ['petal_length'] })));
  detector.mute(3);
  assert.equal(detector.observe(three, report({ drifted: ['petal_length', 'sepal_width'] })), undefined, 'a new feature, muted');
  assert.equal(new CrossingDetector(memory).observe(three, report({ drifted: ['petal_length', 'sepal_width', 'petal_width'] })), undefined, 'still muted after a restart');
  assert.ok(detector.observe({ id: 4, createdAt: 9 }, { ...report({ drifted: ['petal_length'] }), deployment: 4 }), 'another deployment still notifies');
});

test('a memory holding something else (an older format, a hand edit) is ignored, not a crash', () => {
  const memory = new JsonMemory();
  void memory.update(ALERT_MEMORY_KEY, { 3: { crossed: 'feature:petal_length' }, x: { createdAt: 1, crossed: [], muted: false } });
  assert.ok(new CrossingDetector(memory).observe(three, report({ drifted: ['petal_length'] })));
  void memory.update(ALERT_MEMORY_KEY, 'garbage');
  assert.ok(new CrossingDetector(memory).observe(three, report({ drifted: ['petal_length'] })));
});
