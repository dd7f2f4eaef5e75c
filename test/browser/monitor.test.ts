// The Monitor webview in headless Chromium on its standalone page harness: the test plays the
// host and delivers report views. Screenshots (dark and light) go to test-results/screenshots.
// Run: node --test test/browser/monitor.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { HostMessage } from '../../src/shared/monitorProtocol.ts';
import { monitorHtml } from '../../src/vscode/webviews/monitor/html.ts';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { monitorDeployment } from '../../src/core/monitor/monitor.ts';
import { Store } from '../../src/core/store/store.ts';
import { MonitorPresenter } from '../../src/vscode/webviews/monitor/presenter.ts';
import { deployMonitored, stopAll } from '../fixtures/monitoredDeployment.ts';
import { SHIFTED } from '../fixtures/monitorTraining.ts';
import { tempDir } from '../unit/helpers.ts';
import { openMonitorPage, type MonitorPage } from './monitorHarness.ts';
import { launchChromium } from './webviewPage.ts';
import { monitorReport } from '../fixtures/monitorReports.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';

let browser: Browser;

before(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-webviews.mjs')], { cwd: ROOT, stdio: 'inherit' });
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
});

/** Delivers a view and resolves with the render report it caused. */
async function show(mp: MonitorPage, message: HostMessage) {
  mp.sent.length = 0;
  await mp.deliver(message);
  return (await mp.waitForMessage('rendered')).report;
}

async function noProblems(mp: MonitorPage): Promise<void> {
  assert.deepEqual(mp.problems, []);
  assert.deepEqual(await mp.page.evaluate(() => (window as unknown as { alerted: string[] }).alerted), []);
}

test('a drifted report: one heatmap cell per feature and window, only the drifted features marked; dark and light', async () => {
  for (const light of [false, true]) {
    const mp = await openMonitorPage(browser, { light });
    const report = await show(mp, monitorReport({ drifted: ['petal_length', 'petal_width'], windows: 8 }));
    assert.equal(report.cells, 4 * 8);
    assert.equal(report.driftedCells, 2 * 4, 'the two drifted features in the later four windows');
    const driftedRows = await mp.page.$$eval('.heatmap tbody tr', (rows) => rows.filter((r) => r.querySelector('td.drifted')).map((r) => r.querySelector('th')!.textContent));
    assert.deepEqual(driftedRows, ['petal_length', 'petal_width']);
    assert.deepEqual(report.empty, []);
    // The histogram opens on the first drifted feature; the badge names the drifted ones.
    assert.equal(report.feature, 'petal_length');
    assert.match(await mp.page.textContent('header .badge.drifted') ?? '', /Drift: petal_length, petal_width/);
    // Charts drew: traffic, latency, histogram, prediction and accuracy.
    assert.equal(await mp.page.$$eval('canvas', (cs) => cs.filter((c) => c.width > 0 && c.height > 0).length), 5);
    assert.match(await mp.page.textContent('#section-performance') ?? '', /accuracy0\.7/);
    assert.match(await mp.page.textContent('#section-thresholds') ?? '', /accuracy>=0\.9: accuracy 0\.70 < 0\.9/);
    assert.equal(await mp.page.$$eval('#section-thresholds li.failed', (e) => e.length), 2, 'drift and accuracy');
    await mp.page.screenshot({ path: join(SHOTS, `monitor-drifted-${light ? 'light' : 'dark'}.png`), fullPage: true });
    await noProblems(mp);
    await mp.close();
  }
});

test('the histogram switches by feature from the keyboard, and from a feature name in the heatmap', async () => {
  const mp = await openMonitorPage(browser);
  await show(mp, monitorReport({ drifted: ['petal_width'] }));
  assert.equal((await mp.waitForMessage('rendered')).report.feature, 'petal_width');
  mp.sent.length = 0;
  await mp.page.focus('#feature-select');
  await mp.page.keyboard.press('Home');
  const byKey = await mp.waitForMessage('rendered');
  assert.equal(byKey.report.feature, 'sepal_length');
  assert.equal(await mp.page.evaluate(() => document.activeElement?.id), 'feature-select', 'focus stays on the picker');
  assert.match(await mp.page.textContent('#section-histogram .stats') ?? '', /not drifted/);

  mp.sent.length = 0;
  await mp.page.focus('.heatmap tbody tr:nth-child(3) button.feature');
  await mp.page.keyboard.press('Enter');
  assert.equal((await mp.waitForMessage('rendered')).report.feature, 'petal_length');
  assert.equal(await mp.page.evaluate(() => document.activeElement?.id), 'feature-select');
  await noProblems(mp);
  await mp.close();
});

test('empty states: no reference, no traffic, no feedback each say so plainly', async () => {
  const mp = await openMonitorPage(browser);
  const none = await show(mp, monitorReport({ reference: false, traffic: false, feedback: false }));
  assert.deepEqual(none.empty.sort(), ['drift', 'histogram', 'performance', 'prediction', 'quality', 'traffic']);
  assert.equal(none.cells, 0);
  const text = (await mp.page.textContent('main')) ?? '';
  assert.match(text, /No traffic yet/);
  assert.match(text, /No monitoring data: only a deployment served by Runboard's local model server/);
  assert.match(text, /No feedback yet/);
  assert.match(await mp.page.textContent('#section-thresholds') ?? '', /accuracy>=0\.9: no feedback yet/);
  await mp.page.screenshot({ path: join(SHOTS, 'monitor-empty-dark.png'), fullPage: true });

  const collecting = await show(mp, monitorReport({ reference: 'collecting', feedback: false }));
  assert.deepEqual(collecting.empty.sort(), ['drift', 'histogram', 'performance']);
  assert.match(await mp.page.textContent('#section-drift') ?? '', /Collecting a baseline reference: 37 of 500 served rows so far/);
  assert.match(await mp.page.textContent('header') ?? '', /collecting a baseline/);
  assert.doesNotMatch(await mp.page.textContent('header') ?? '', /failing/, 'a gate waiting for feedback has not failed');
  assert.equal(await mp.page.$$eval('#section-thresholds li.pending', (e) => e.length), 1);
  await mp.page.screenshot({ path: join(SHOTS, 'monitor-baseline-dark.png'), fullPage: true });

  const noFeedback = await show(mp, monitorReport({ feedback: false }));
  assert.deepEqual(noFeedback.empty, ['performance']);
  await noProblems(mp);
  await mp.close();
});

test('64 features with long names: the heatmap scrolls inside its box, names cut but whole in their tooltips', async () => {
  const features = Array.from({ length: 64 }, (_, i) => (i === 7 ? `a_very_long_feature_name_from_a_wide_dataframe_column_${i}_normalised_by_store_and_week` : `f${i}`));
  const mp = await openMonitorPage(browser, { width: 1000 });
  const report = await show(mp, monitorReport({ features, drifted: ['f3', features[7]!, 'f60'], windows: 24 }));
  assert.equal(report.cells, 64 * 24);
  assert.equal(report.driftedCells, 3 * 12);
  const box = await mp.page.$eval('.heatmap-scroll', (e) => ({ scrollH: e.scrollHeight, clientH: e.clientHeight, scrollW: e.scrollWidth, clientW: e.clientWidth, page: document.documentElement.scrollWidth, view: window.innerWidth }));
  assert.ok(box.scrollH > box.clientH && box.clientH <= 420, `scrolls vertically: ${JSON.stringify(box)}`);
  assert.ok(box.scrollW > box.clientW, 'scrolls horizontally');
  assert.ok(box.page <= box.view, 'the page itself does not scroll sideways');
  assert.equal(await mp.page.getAttribute('.heatmap tbody tr:nth-child(8) button.feature', 'title'), features[7]);
  // Keyboard: the scroll box takes focus and scrolls with the arrow keys.
  await mp.page.focus('.heatmap-scroll');
  await mp.page.keyboard.press('PageDown');
  // PageDown scrolls smoothly: wait until the box has stopped moving, not just started.
  await mp.page.waitForFunction(() => document.querySelector('.heatmap-scroll')!.scrollTop > 0, undefined, { timeout: 5000 });
  await mp.page.$eval(
    '.heatmap-scroll',
    (box) =>
      new Promise<void>((settled) => {
        let [last, still] = [box.scrollTop, 0];
        const frame = (): void => {
          still = box.scrollTop === last ? still + 1 : 0;
          last = box.scrollTop;
          if (still >= 10) settled();
          else requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
  );
  await mp.page.screenshot({ path: join(SHOTS, 'monitor-64-features-dark.png'), fullPage: false });
  // A live refresh (one more window) keeps where the reader had scrolled, in the grid and on the page.
  const before = await mp.page.$eval('.heatmap-scroll', (e) => [e.scrollTop, window.scrollY]);
  await show(mp, monitorReport({ features, drifted: ['f3', features[7]!, 'f60'], windows: 25 }));
  assert.deepEqual(await mp.page.$eval('.heatmap-scroll', (e) => [e.scrollTop, window.scrollY]), before);
  await noProblems(mp);
  await mp.close();
});

test('user strings are text: a feature named like markup renders as its name and runs nothing', async () => {
  const mp = await openMonitorPage(browser);
  const message = monitorReport({ features: [XSS, 'ok'], drifted: [XSS] });
  message.deployment.model = `<b>model</b>`;
  message.report.notes = [`reference from ${XSS}`];
  await show(mp, message);
  assert.equal(await mp.page.$$eval('main img, main b', (e) => e.length), 0);
  assert.equal(await mp.page.textContent('.heatmap tbody tr:first-child button.feature'), XSS);
  assert.equal(await mp.page.textContent('h1'), '<b>model</b>@2');
  assert.ok(((await mp.page.textContent('#feature-select')) ?? '').includes(XSS));
  await noProblems(mp);
  await mp.close();
});

test('a host error is shown as text in one alert: the next replaces it, a report clears it', async () => {
  const mp = await openMonitorPage(browser);
  await mp.deliver({ type: 'error', message: `No deployment "${XSS}"` });
  assert.equal(await mp.page.textContent('main > p.error[role=alert]'), `No deployment "${XSS}"`);
  assert.equal(await mp.page.getAttribute('main', 'aria-busy'), 'false');
  await mp.deliver({ type: 'error', message: 'The database is locked' });
  assert.deepEqual(await mp.page.$$eval('main .error', (e) => e.map((x) => x.textContent)), ['The database is locked']);
  await show(mp, monitorReport());
  assert.equal(await mp.page.$('main .error'), null);
  assert.equal(await mp.page.$$eval('main img', (e) => e.length), 0);
  await noProblems(mp);
  await mp.close();
});

test('CSP: every script carries the nonce, nothing inline; buttons post their action', async () => {
  const html = monitorHtml({ cspSource: 'https://x.test', nonce: 'abc123', scriptUri: 'https://x.test/m.js', styleUri: 'https://x.test/m.css', codiconsUri: 'https://x.test/c.css' });
  assert.match(html, /script-src 'nonce-abc123'/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  for (const [, attrs, body] of scripts) {
    assert.match(attrs!, /nonce="abc123"/);
    assert.equal(body!.trim(), '', 'no inline script body');
  }
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline handlers');

  const mp = await openMonitorPage(browser);
  await show(mp, monitorReport({ drifted: ['sepal_width'], version: 1 }));
  assert.equal(await mp.page.$('#action-rollback'), null, 'no older version: no Roll Back');
  await mp.page.click('#action-retrain');
  await mp.page.click('#action-lineage');
  assert.deepEqual(mp.sent.filter((m) => m.type === 'action').map((m) => m.type === 'action' && m.action), ['retrain', 'lineage']);
  // An inline script the page did not sign is refused by the CSP (and reported).
  await mp.page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.injected = true';
    document.body.append(s);
  });
  // The violation is reported a moment later: wait for the page's report of it, not for a duration.
  await mp.waitForMessage('error', (m) => /^CSP blocked/.test(m.message));
  assert.equal(await mp.page.evaluate(() => (window as unknown as { injected?: boolean }).injected), undefined);
  await mp.close();
});

test('a real deployment: the presenter over a served sklearn model drives the page; the shifted features are the drifted rows', { timeout: 180_000 }, async () => {
  const workspace = tempDir();
  const served = await deployMonitored(workspace);
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'));
  try {
    const { ids } = await served.predict(served.traffic.live);
    await served.feedback(ids, served.traffic.labels);
    await served.predict(served.traffic.shifted);
    const deployments = new Deployments(store, { workspace, settings: {} });
    const mp = await openMonitorPage(browser);
    const presenter = new MonitorPresenter(
      {
        deployment: (id) => {
          const { model, version, target, status, url } = deployments.get(id);
          return { id, model, version, target, status, url };
        },
        // Every row kept: the labelled in-distribution rows and the shifted ones.
        report: (id) => monitorDeployment(store, id),
      },
      served.id,
      { post: (m) => void mp.deliver(m), setTitle: () => {}, act: async () => {}, showError: () => {}, log: () => {} },
    );
    mp.sent.length = 0;
    await presenter.handle({ type: 'ready' });
    const rendered = (await mp.waitForMessage('rendered')).report;
    assert.equal(rendered.deployment, served.id);
    assert.deepEqual(rendered.empty, [], 'traffic, drift, histogram, predictions and feedback all there');
    const drifted = await mp.page.$$eval('.quality tbody tr.drifted th', (e) => e.map((x) => x.textContent));
    assert.deepEqual(drifted, SHIFTED);
    assert.equal(rendered.feature, SHIFTED[0], 'the histogram opens on the first drifted feature');
    assert.match((await mp.page.textContent('header')) ?? '', new RegExp(`Drift: ${SHIFTED.join(', ')}`));
    await mp.page.screenshot({ path: join(SHOTS, 'monitor-real-dark.png'), fullPage: true });
    await noProblems(mp);
    await mp.close();
  } finally {
    await stopAll(store);
    store.close();
  }
});
