// The Monitor panel's presenter over a real store and the engine's report of a real deployment:
// a sklearn model served by the real model server, fed rows and labels over HTTP.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { UserError } from '../../src/core/errors.ts';
import { monitorDeployment } from '../../src/core/monitor/monitor.ts';
import { Store } from '../../src/core/store/store.ts';
import type { HostMessage } from '../../src/shared/monitorProtocol.ts';
import { CrossingDetector } from '../../src/vscode/monitorAlerts.ts';
import { MonitorPresenter, type MonitorPort } from '../../src/vscode/webviews/monitor/presenter.ts';
import { deployMonitored, stopAll, type MonitoredDeployment } from '../fixtures/monitoredDeployment.ts';
import { FEATURES, SHIFTED } from '../fixtures/monitorTraining.ts';
import { tempDir } from './helpers.ts';

const workspace = tempDir();
let store: Store;
let served: MonitoredDeployment;

before(async () => {
  served = await deployMonitored(workspace);
  store = Store.open(join(workspace, '.runboard', 'runboard.db'));
});

after(async () => {
  await stopAll(store);
  store.close();
});

function presenter(id: number, port: Partial<MonitorPort> = {}) {
  const posted: HostMessage[] = [];
  const logged: string[] = [];
  const deployments = new Deployments(store, { workspace, settings: {} });
  const p = new MonitorPresenter(
    {
      deployment: (d) => {
        const { model, version, target, status, url } = deployments.get(d);
        return { id: d, model, version, target, status, url };
      },
      report: (d) => monitorDeployment(store, d),
    },
    id,
    { post: (m) => posted.push(m), setTitle: () => {}, act: async () => {}, showError: () => {}, log: (level, message) => logged.push(`${level}: ${message}`), ...port },
  );
  return { p, posted, logged };
}

const reportOf = (m: HostMessage | undefined) => {
  assert.equal(m?.type, 'report', JSON.stringify(m));
  return (m as Extract<HostMessage, { type: 'report' }>).report;
};

test('the page gets the real report once it is ready, again only when the report changed, and drift shows exactly the shifted features', { timeout: 120_000 }, async () => {
  const { p, posted } = presenter(served.id);
  p.refresh();
  assert.equal(posted.length, 0, 'nothing is made before the page is ready');

  const { ids, predictions } = await served.predict(served.traffic.live);
  await served.feedback(ids, served.traffic.labels);
  await p.handle({ type: 'ready' });
  const calm = reportOf(posted[0]);
  assert.equal(calm.deployment, served.id);
  assert.deepEqual(calm.reference?.features, FEATURES);
  assert.equal(calm.drift?.drifted, false);
  const accuracy = predictions.filter((y, i) => y === served.traffic.labels[i]).length / predictions.length;
  assert.equal(calm.performance?.accuracy, accuracy, 'live accuracy as the labels arrived');
  assert.equal((posted[0] as Extract<HostMessage, { type: 'report' }>).deployment.url, served.url);

  p.refresh();
  assert.equal(posted.length, 1, 'a report that only got a new time is not sent again');

  await served.predict(served.traffic.shifted);
  p.refresh();
  assert.equal(posted.length, 2);
  const shifted = monitorDeployment(store, served.id, { windowRows: 300 });
  assert.deepEqual(shifted.drift?.features.filter((f) => f.drifted).map((f) => f.name), SHIFTED);
  assert.ok(reportOf(posted[1]).history.points.length >= 1);
});

test('the crossing detector over real reports: the shift is one notification naming exactly the shifted features', () => {
  const detector = new CrossingDetector();
  const deployment = store.deployments.get(served.id)!;
  const crossing = detector.observe(deployment, monitorDeployment(store, served.id, { windowRows: 300 }));
  assert.deepEqual(crossing?.crossed.features, SHIFTED);
  assert.equal(detector.observe(deployment, monitorDeployment(store, served.id, { windowRows: 300 })), undefined, 'the same drift at the next refresh');
});

test('an unknown deployment is a one-line error on the page, not a fault in the log', async () => {
  const { p, posted, logged } = presenter(9999);
  await p.handle({ type: 'ready' });
  assert.deepEqual(posted, [{ type: 'error', message: 'No deployment "9999". List them with: runboard deployments' }]);
  assert.deepEqual(logged, []);
});

test('a button whose command fails shows the error; a fault is logged too; page errors are kept', async () => {
  const shown: string[] = [];
  const { p, logged } = presenter(served.id, {
    showError: (text) => shown.push(text),
    act: async (action) => {
      if (action === 'rollback') throw new UserError('Nothing to roll back to');
      throw new Error('boom');
    },
  });
  await p.handle({ type: 'action', action: 'rollback' });
  await p.handle({ type: 'action', action: 'retrain' });
  assert.deepEqual(shown, ['Nothing to roll back to', 'boom']);
  assert.equal(logged.filter((l) => l.startsWith('error:')).length, 1, 'only the fault is logged as an error');
  await p.handle({ type: 'error', message: 'CSP blocked inline' });
  assert.deepEqual(p.render.problems, ['CSP blocked inline']);
  assert.ok(logged.includes('warn: Monitor webview: CSP blocked inline'), 'and logged');
});
