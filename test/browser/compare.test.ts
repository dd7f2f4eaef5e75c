// The Compare webview in headless Chromium on the standalone page harness, answered by a real
// CompareSession over a real temporary store. Run: node --test test/browser/compare.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Store } from '../../src/core/store/store.ts';
import type { MetricPoint } from '../../src/core/store/types.ts';
import type { HostMessage, RenderedReport, WebviewMessage } from '../../src/shared/compareProtocol.ts';
import { connectSession, openComparePage, type ComparePage } from './compareHarness.ts';
import { launchChromium } from './webviewPage.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';

let browser: Browser;
let dir: string;
let store: Store;
const ids: number[] = [];

function seed(): void {
  const wall0 = 1_700_000_000_000;
  // Short runs log every 60 steps (300 points over 18k steps), the long one every step.
  const make = (name: string, params: Record<string, string | number>, length: number, lr: number, withEpoch: boolean) => {
    const every = length < 1000 ? 60 : 1;
    const run = store.createRun({ name, params, experiment: 'cifar10', runDir: join(dir, name.replace(/\W/g, '_')) });
    store.markStarted(run.id, null);
    const points: MetricPoint[] = [];
    for (let i = 0; i < length; i++) {
      const step = i * every;
      const t = i / length;
      const noise = Math.sin(step * 0.7 + lr * 100) * 0.04 + Math.sin(step * 0.13) * 0.02;
      points.push({ key: 'loss', step, value: 2.3 * Math.exp(-t * 4 * lr * 100) + 0.15 + noise + (i === Math.floor(length * 0.6) ? 1.5 : 0), wall: wall0 + step * 200 });
      points.push({ key: 'accuracy', step, value: Math.min(0.99, 0.1 + 0.85 * (1 - Math.exp(-t * 3.5 * lr * 100)) + noise / 3), wall: wall0 + step * 200 });
      if (withEpoch && (step + every) % 1200 < every) points.push({ key: 'epoch', step, value: Math.round((step + every) / 1200), wall: wall0 + step * 200 });
    }
    store.logMetrics(run.id, points);
    store.markEnded(run.id, { status: 'finished' });
    ids.push(run.id);
    const runDir = store.run(run.id)!.runDir!;
    mkdirSync(join(runDir, 'artifacts'), { recursive: true });
    const good = 40 + Math.round(lr * 500);
    writeFileSync(
      join(runDir, 'artifacts', 'evaluation.json'),
      JSON.stringify({ labels: ['cat', 'dog', name === XSS ? XSS : 'bird'], confusion_matrix: [[good, 6, 4], [5, good - 3, 8], [2, 7, good + 2]] }),
    );
    return run;
  };
  make('baseline', { lr: 0.01, optimizer: 'sgd', batch_size: 128 }, 300, 0.01, true);
  make(XSS, { lr: 0.03, optimizer: 'adam', batch_size: 128 }, 300, 0.03, false);
  make('long-run', { lr: 0.02, optimizer: 'adam', batch_size: 256 }, 20_000, 0.02, true);
}

before(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-webviews.mjs')], { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'runboard-browser-'));
  store = Store.open(join(dir, '.runboard', 'runboard.db'));
  seed();
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the panel on the three runs; records what the host sent. */
async function open(): Promise<{ cp: ComparePage; hostSent: HostMessage[]; close: () => Promise<void> }> {
  const cp = await openComparePage(browser);
  const hostSent: HostMessage[] = [];
  const deliver = cp.deliver.bind(cp);
  cp.deliver = (m) => {
    hostSent.push(m);
    return deliver(m);
  };
  const session = connectSession(cp, store, ids);
  return {
    cp,
    hostSent,
    close: async () => {
      session.dispose();
      await cp.close();
    },
  };
}

const renderedChart = (cp: ComparePage, metric: string, runs = 3) =>
  cp.waitForMessage('rendered', (m) => m.report.view === 'chart' && m.report.metric === metric && m.report.series.length === runs);

test('three runs draw with the point counts the host sent; raw runs in full', async () => {
  const { cp, hostSent, close } = await open();
  try {
    const { report } = await renderedChart(cp, 'loss');
    const series = hostSent.find((m): m is Extract<HostMessage, { type: 'series' }> => m.type === 'series' && m.requestId === report.requestId)!;
    assert.ok(series, 'the host answered the drawn request');
    const points = new Map(report.series.map((s) => [s.runId, s.points]));
    assert.equal(points.get(ids[0]!), 300);
    assert.equal(points.get(ids[1]!), 300);
    const long = series.runs.find((r) => r.runId === ids[2])!;
    assert.equal(long.exact, false);
    assert.equal(points.get(ids[2]!), long.x.length);
    assert.ok(long.x.length >= 500 && long.x.length <= 2000, `${long.x.length} points for the 20k-step run`);
    assert.deepEqual(cp.cspViolations, []);
    assert.deepEqual(cp.problems, []);

    // The default view charts loss and accuracy; take the picture once both are drawn.
    await renderedChart(cp, 'accuracy');
    await cp.page.screenshot({ path: join(SHOTS, 'compare.png') });

    // Drag across the loss chart: the host is asked for that range and answers at full fidelity.
    const canvas = cp.page.locator('.chart-card').first().locator('canvas');
    const box = (await canvas.boundingBox())!;
    const before = cp.sent.length;
    await cp.page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
    await cp.page.mouse.down();
    await cp.page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 4 });
    await cp.page.mouse.up();
    const zoomRequest = await cp.waitForMessage('requestSeries', (m) => m.query.metric === 'loss' && m.query.range !== null && cp.sent.indexOf(m) >= before);
    const zoomed = await cp.waitForMessage('rendered', (m) => m.report.requestId === zoomRequest.requestId);
    const zoomSeries = hostSent.find((m): m is Extract<HostMessage, { type: 'series' }> => m.type === 'series' && m.requestId === zoomRequest.requestId)!;
    const longZoom = zoomSeries.runs.find((r) => r.runId === ids[2])!;
    assert.ok(longZoom.x[0]! >= zoomRequest.query.range!.from - 1 && longZoom.x[longZoom.x.length - 1]! <= zoomRequest.query.range!.to + 1);
    assert.equal(zoomed.report.series.find((s) => s.runId === ids[2])!.points, longZoom.x.length);
    await cp.page.screenshot({ path: join(SHOTS, 'compare-zoomed.png') });
  } finally {
    await close();
  }
});

test('a run named like markup renders as text: no element is created and nothing runs', async () => {
  const { cp, close } = await open();
  try {
    await renderedChart(cp, 'loss');
    const check = async () => {
      const result = await cp.page.evaluate((xss) => ({
        imgs: document.querySelectorAll('img').length,
        text: document.body.innerText.includes(xss),
        alerted: (window as unknown as { alerted: string[] }).alerted,
      }), XSS);
      assert.equal(result.imgs, 0);
      assert.equal(result.text, true, 'the name is shown as characters');
      assert.deepEqual(result.alerted, []);
    };
    await check();
    // The table, the evaluation tab (a label named like markup) and the selects too.
    await cp.page.getByText('Table', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'table');
    await check();
    await cp.page.screenshot({ path: join(SHOTS, 'compare-table.png') });
    await cp.page.getByText('Evaluation', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'evaluation' && m.report.series.length === 3);
    await check();
    await cp.page.screenshot({ path: join(SHOTS, 'compare-evaluation.png') });
  } finally {
    await close();
  }
});

test('clicking a run highlights it everywhere and tells the host; state survives a reload', async () => {
  const { cp, close } = await open();
  try {
    await renderedChart(cp, 'loss');
    await cp.page.locator('.run-name', { hasText: 'long-run' }).click();
    const h = await cp.waitForMessage('highlight', (m) => m.runId === ids[2]);
    assert.equal(h.runId, ids[2]);
    assert.equal(await cp.page.locator('li.highlighted .label').innerText(), 'long-run');
    await cp.page.getByText('Parallel coordinates', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'parallel');
    await cp.page.screenshot({ path: join(SHOTS, 'compare-parallel.png') });
    await cp.page.getByText('Scatter', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'scatter');
    await cp.page.screenshot({ path: join(SHOTS, 'compare-scatter.png') });
    const state = (await cp.page.evaluate(() => (window as unknown as { __harness: { state: unknown } }).__harness.state)) as { highlight: number; tab: string };
    assert.equal(state.highlight, ids[2]);
    assert.equal(state.tab, 'scatter');
    const posted: WebviewMessage['type'][] = cp.sent.map((m) => m.type);
    assert.ok(posted.includes('view'), 'the view is reported to the host for live refresh');
    assert.deepEqual(cp.problems, []);
  } finally {
    await close();
  }
});

test('keyboard: tabs, chart zoom keys and table rows are reachable', async () => {
  const { cp, close } = await open();
  try {
    await renderedChart(cp, 'loss');
    const canvas = cp.page.locator('.chart-card').first().locator('canvas');
    await canvas.focus();
    const before = cp.sent.length;
    await cp.page.keyboard.press('+');
    const req = await cp.waitForMessage('requestSeries', (m) => m.query.range !== null && cp.sent.indexOf(m) >= before);
    assert.ok(req.query.range!.to > req.query.range!.from);
    await cp.page.keyboard.press('0');
    await cp.waitForMessage('requestSeries', (m) => m.query.range === null && cp.sent.indexOf(m) > cp.sent.indexOf(req));
    const report: RenderedReport = (await renderedChart(cp, 'loss')).report;
    assert.equal(report.series.length, 3);
  } finally {
    await close();
  }
});

test('group by a param: one mean ± std line per value; smoothing and log y redraw without asking the host', async () => {
  const { cp, close } = await open();
  try {
    await renderedChart(cp, 'loss');
    // The group-by select is a vscode-single-select: set it the way a user's choice does.
    await cp.page.evaluate(() => {
      const select = document.querySelectorAll('vscode-single-select')[1] as HTMLElement & { value: string };
      select.value = 'optimizer';
      select.dispatchEvent(new Event('change'));
    });
    const req = await cp.waitForMessage('requestSeries', (m) => m.query.groupBy === 'optimizer');
    const grouped = await cp.waitForMessage('rendered', (m) => m.report.requestId === req.requestId && m.report.metric === 'loss');
    assert.deepEqual(grouped.report.series.map((s) => s.group), ['adam', 'sgd']);
    assert.ok(grouped.report.series.every((s) => s.points > 0));
    await cp.page.screenshot({ path: join(SHOTS, 'compare-grouped.png') });
    const requests = cp.sent.filter((m) => m.type === 'requestSeries').length;
    const before = cp.sent.length;
    await cp.page.locator('input[type=range]').fill('0.9');
    await cp.page.locator('vscode-checkbox').first().click();
    // Wait for the log-y redraw (the smoothing one came before it), not for a duration.
    await cp.waitForMessage('rendered', (m) => m.report.view === 'chart' && m.report.logY === true && cp.sent.indexOf(m) >= before);
    assert.equal(cp.sent.filter((m) => m.type === 'requestSeries').length, requests, 'smoothing and log y are drawn in the page');
    const state = (await cp.page.evaluate(() => (window as unknown as { __harness: { state: unknown } }).__harness.state)) as { smoothing: number; logY: boolean; groupBy: string };
    assert.deepEqual([state.smoothing, state.logY, state.groupBy], [0.9, true, 'optimizer']);
    assert.deepEqual(cp.problems, []);
  } finally {
    await close();
  }
});

test('live: a running run that logs more is redrawn with only its series resent', async () => {
  const live = store.createRun({ name: 'live', params: { lr: 0.05, optimizer: 'sgd', batch_size: 64 } });
  store.markStarted(live.id, null);
  store.logMetrics(live.id, Array.from({ length: 50 }, (_, step) => ({ key: 'loss', step, value: 2 - step / 50 })));
  const cp = await openComparePage(browser);
  const hostSent: HostMessage[] = [];
  const deliver = cp.deliver.bind(cp);
  cp.deliver = (m) => {
    hostSent.push(m);
    return deliver(m);
  };
  const session = connectSession(cp, store, [ids[0]!, live.id]);
  try {
    await cp.waitForMessage('rendered', (m) => m.report.metric === 'loss' && m.report.series.some((s) => s.runId === live.id && s.points === 50));
    await cp.page.waitForTimeout(300);
    store.logMetrics(live.id, Array.from({ length: 50 }, (_, i) => ({ key: 'loss', step: 50 + i, value: 1 - i / 100 })));
    const redrawn = await cp.waitForMessage('rendered', (m) => m.report.metric === 'loss' && m.report.series.some((s) => s.runId === live.id && s.points === 100));
    assert.equal(redrawn.report.series.find((s) => s.runId === ids[0])!.points, 300, 'the other run is kept');
    const partial = hostSent.find((m): m is Extract<HostMessage, { type: 'series' }> => m.type === 'series' && m.partial);
    assert.deepEqual(partial?.runs.map((r) => r.runId), [live.id]);
    assert.ok(await cp.page.locator('.badge.live').isVisible(), 'the panel shows it is live');
  } finally {
    session.dispose();
    await cp.close();
    store.markEnded(live.id, { status: 'finished' });
  }
});

test('a restarted run and buckets holding NaN or ±Infinity say so: the header counts replaced points, the tooltip the non-finite ones', async () => {
  const run = store.createRun({ name: 'restarted', params: { lr: 0.01 } });
  // Steps 0..4 logged twice (a restart), and NaN or +Inf at every 10th step in the middle fifth.
  store.logMetrics(run.id, Array.from({ length: 5 }, (_, step) => ({ key: 'loss', step, value: 2 })));
  store.logMetrics(
    run.id,
    Array.from({ length: 20_000 }, (_, step) => ({ key: 'loss', step, value: step >= 8000 && step < 12_000 && step % 10 === 0 ? (step % 20 ? NaN : Infinity) : 1 })),
  );
  store.markEnded(run.id, { status: 'finished' });
  const cp = await openComparePage(browser);
  const session = connectSession(cp, store, [run.id]);
  try {
    await cp.waitForMessage('rendered', (m) => m.report.view === 'chart' && m.report.metric === 'loss' && m.report.series.length === 1);
    const card = cp.page.locator('.chart-card').first();
    assert.match((await card.locator('.chart-status').textContent()) ?? '', /5 points replaced by a later value for the same step/);
    const box = (await card.locator('canvas').boundingBox())!;
    await cp.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const detail = card.locator('.chart-tooltip .tt-detail');
    await detail.waitFor({ state: 'visible' });
    assert.match((await detail.textContent()) ?? '', /min 1 · max 1 · \d+ points · \d+ NaN\/±Infinity not drawn/);
    await cp.page.screenshot({ path: join(SHOTS, 'compare-nonfinite.png') });
    assert.deepEqual(cp.problems, []);
  } finally {
    session.dispose();
    await cp.close();
  }
});
