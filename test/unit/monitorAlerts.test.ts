// The badge and notification rules of monitoring (src/vscode/monitorAlerts.ts), on plain Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MonitorReport } from '../../src/core/monitor/report.ts';
import { alertOf, CrossingDetector, describeAlert } from '../../src/vscode/monitorAlerts.ts';
import { monitorReport, type ReportShape } from '../fixtures/monitorReports.ts';

const report = (shape: ReportShape): MonitorReport => monitorReport(shape).report;

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
  assert.equal(detector.observe(report({})), undefined, 'calm');
  const first = detector.observe(report({ drifted: ['petal_length'] }));
  assert.deepEqual(first?.crossed.features, ['petal_length']);
  assert.equal(first?.deployment, 3);
  assert.equal(detector.observe(report({ drifted: ['petal_length'] })), undefined, 'the same drift again');
  assert.equal(detector.observe(report({ drifted: ['petal_length'] })), undefined, 'and again');
});

test('a new feature crossing while others stay drifted is notified alone; a recovery then a relapse is a new crossing', () => {
  const detector = new CrossingDetector();
  detector.observe(report({ drifted: ['petal_length'] }));
  const second = detector.observe(report({ drifted: ['petal_length', 'sepal_width'] }));
  assert.deepEqual(second?.crossed.features, ['sepal_width']);
  assert.deepEqual(second?.alert.features, ['sepal_width', 'petal_length'], 'the whole alert, in reference order');
  assert.equal(second?.crossed.prediction, false, 'prediction drift was already said');
  assert.equal(second?.crossed.gates.length, 0, 'the failing gate was already said');
  assert.equal(detector.observe(report({})), undefined, 'recovered');
  assert.deepEqual(detector.observe(report({ drifted: ['petal_length'] }))?.crossed.features, ['petal_length'], 'crossed anew');
});

test('deployments are tracked apart, and a forgotten one starts afresh', () => {
  const detector = new CrossingDetector();
  const a = report({ drifted: ['petal_width'] });
  const b = { ...report({ drifted: ['petal_width'] }), deployment: 4 };
  assert.ok(detector.observe(a));
  assert.ok(detector.observe(b), 'another deployment crossing the same threshold is its own crossing');
  assert.equal(detector.observe(a), undefined);
  detector.forget(3);
  assert.ok(detector.observe(a));
});

test('a gate that starts failing when labels arrive is a crossing of its own', () => {
  const detector = new CrossingDetector();
  assert.equal(detector.observe(report({ feedback: false })), undefined);
  const failing: MonitorReport = report({ feedback: false });
  failing.gates.results = [{ condition: 'accuracy>=0.9', ok: false, actual: 0.8, reason: 'accuracy 0.80 < 0.9' }];
  assert.deepEqual(detector.observe(failing)?.crossed, { features: [], prediction: false, gates: [{ condition: 'accuracy>=0.9', actual: 0.8 }] });
});
