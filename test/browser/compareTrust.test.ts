// Compare mistakes that lead to picking the wrong model (issue 15, section 2), each in headless
// Chromium against a real CompareSession over a real temporary store.
// Run: node --test test/browser/compareTrust.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Store } from '../../src/core/store/store.ts';
import type { MetricPoint } from '../../src/core/store/types.ts';
import type { ViewState } from '../../src/shared/compareProtocol.ts';
import { connectSession, openComparePage, type ComparePage } from './compareHarness.ts';
import { launchChromium } from './webviewPage.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'test-results', 'screenshots');

let browser: Browser;
let dir: string;
let store: Store;
/** alpha and beta finished (beta's loss went NaN at step 15, +Inf at 20), gamma crashed with the lowest loss. */
let alpha: number;
let beta: number;
let gamma: number;
/** One run whose accuracy stays within 0.904–0.909. */
let narrow: number;

function seed(): void {
  const make = (name: string, params: Record<string, string | number>, status: 'finished' | 'crashed', lossAt: (step: number) => number, testScore: number | null) => {
    const run = store.createRun({ name, params, experiment: 'trust', profile: 'train' });
    store.markStarted(run.id, null);
    const points: MetricPoint[] = [];
    for (let step = 0; step < 30; step++) {
      const loss = lossAt(step);
      if (Number.isNaN(loss) && step > 15 && step !== 20) continue;
      points.push({ key: 'loss', step, value: loss });
      points.push({ key: 'train_loss', step, value: 1 / (step + 1) });
      points.push({ key: 'val_loss', step, value: 1.1 / (step + 1) });
      points.push({ key: 'accuracy', step, value: 0.5 + step / 100 });
      points.push({ key: 'val_accuracy', step, value: 0.45 + step / 100 });
      points.push({ key: 'epoch', step, value: Math.floor(step / 10) + (status === 'crashed' ? 5 : 0) });
    }
    if (testScore !== null) points.push({ key: 'test_score', step: 29, value: testScore });
    store.logMetrics(run.id, points);
    store.markEnded(run.id, { status });
    return run.id;
  };
  alpha = make('alpha', { lr: 0.01, arch: 'mlp', seed: 1 }, 'finished', (s) => 2 / (s + 1), 0.91);
  beta = make('beta', { lr: 0.03, arch: 'mlp', seed: 1 }, 'finished', (s) => (s === 15 ? NaN : s === 20 ? Infinity : s > 15 ? NaN : 3 / (s + 1)), 0.88);
  gamma = make('gamma', { lr: 0.1 }, 'crashed', (s) => 1 / (s + 10), null);
  const n = store.createRun({ name: 'narrow', experiment: 'trust' });
  store.logMetrics(n.id, Array.from({ length: 200 }, (_, step) => ({ key: 'accuracy', step, value: 0.904 + (0.005 * step) / 199 })));
  store.markEnded(n.id, { status: 'finished' });
  narrow = n.id;
}

before(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-webviews.mjs')], { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'runboard-trust-'));
  mkdirSync(join(dir, '.runboard'), { recursive: true });
  writeFileSync(
    join(dir, '.runboard', 'profiles.json'),
    JSON.stringify({ profiles: { train: { command: ['python3', 'train.py'], gates: ['val_accuracy >= 0.9'] } } }),
  );
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

async function open(runIds: number[]): Promise<{ cp: ComparePage; close: () => Promise<void> }> {
  const cp = await openComparePage(browser);
  const session = connectSession(cp, store, runIds, {}, { workspace: dir });
  return {
    cp,
    close: async () => {
      session.dispose();
      await cp.close();
    },
  };
}

const harnessView = async (cp: ComparePage): Promise<ViewState> => (await cp.page.evaluate(() => (window as unknown as { __harness: { state: unknown } }).__harness.state)) as ViewState;

/** Sets a vscode select the way a user's choice does. */
async function choose(cp: ComparePage, ariaLabel: string, value: string | string[]): Promise<void> {
  await cp.page.evaluate(
    ([label, v]) => {
      const select = document.querySelector(`[aria-label="${label}"]`) as HTMLElement & { value: unknown };
      select.value = v;
      select.dispatchEvent(new Event('change'));
    },
    [ariaLabel, value] as const,
  );
}

/** Pixels of a chart's canvas (its top `rows`, else all) that are clearly coloured: runs and groups, not grey axes and text. */
function colouredPixels(cp: ComparePage, metric: string, rows?: number): Promise<number> {
  return cp.page.evaluate(
    ([m, r]) => {
      const canvas = document.querySelector(`.chart-card[aria-label="${m}"] canvas`) as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, r ?? canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 128 && Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 80) n++;
      return n;
    },
    [metric, rows] as const,
  );
}

const chartDrawn = (cp: ComparePage, metric: string) => cp.waitForMessage('rendered', (m) => m.report.view === 'chart' && m.report.metric === metric && m.report.series.length > 0);

test('a metric logged once per run is drawn as markers, and the header counts only the runs that have it', async () => {
  const { cp, close } = await open([alpha, beta, gamma]);
  try {
    await chartDrawn(cp, 'loss');
    await choose(cp, 'Metrics to chart', ['test_score']);
    await chartDrawn(cp, 'test_score');
    const card = cp.page.locator('.chart-card[aria-label="test_score"]');
    assert.match((await card.locator('.chart-status').textContent()) ?? '', /^2 runs · /, 'gamma never logged test_score');
    assert.ok((await colouredPixels(cp, 'test_score')) > 20, 'the two single points are visible');
    await cp.page.screenshot({ path: join(SHOTS, 'compare-single-points.png') });
  } finally {
    await close();
  }
});

test('grouped, the legend shows the groups in their colours, and the run list takes its group colour', async () => {
  const { cp, close } = await open([alpha, beta, gamma]);
  try {
    await chartDrawn(cp, 'loss');
    await choose(cp, 'Group runs by param', 'arch');
    await cp.waitForMessage('rendered', (m) => m.report.metric === 'loss' && m.report.series.some((s) => s.group === 'mlp'));
    const legend = cp.page.locator('.chart-card[aria-label="loss"] .chart-legend li');
    assert.deepEqual(await legend.allInnerTexts(), ['arch = (none) (1 run) · mean ± std', 'arch = mlp (2 runs) · mean ± std']);
    const swatch = (loc: ReturnType<typeof cp.page.locator>) => loc.locator('.swatch').first().evaluate((e) => getComputedStyle(e).backgroundColor);
    const none = await swatch(legend.nth(0));
    const mlp = await swatch(legend.nth(1));
    assert.notEqual(mlp, none);
    assert.equal(await swatch(cp.page.locator(`li[data-run="${alpha}"]`)), mlp);
    assert.equal(await swatch(cp.page.locator(`li[data-run="${beta}"]`)), mlp);
    assert.equal(await swatch(cp.page.locator(`li[data-run="${gamma}"]`)), none);
    await cp.page.screenshot({ path: join(SHOTS, 'compare-grouped-legend.png') });
  } finally {
    await close();
  }
});

test('where a series went NaN or ±Infinity is marked on the chart and in the table', async () => {
  const { cp, close } = await open([alpha, beta]);
  try {
    await chartDrawn(cp, 'loss');
    const notes = cp.page.locator('.chart-card[aria-label="loss"] .chart-nonfinite');
    assert.match((await notes.textContent()) ?? '', /beta: NaN at step 15, \+Infinity at step 20/);
    // Marks in the run's colour at the top of the plot area, over the steps that went non-finite.
    const marked = await colouredPixels(cp, 'loss', 40);
    assert.ok(marked > 10, `non-finite marks drawn (${marked} coloured pixels near the top)`);
    await cp.page.screenshot({ path: join(SHOTS, 'compare-nonfinite-marks.png') });
    await cp.page.getByText('Table', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'table');
    const cell = cp.page.locator(`tr[data-run="${beta}"] td.nonfinite`).first();
    assert.match((await cell.getAttribute('title')) ?? '', /loss went NaN at step 15/);
    assert.equal(await cp.page.locator(`tr[data-run="${alpha}"] td.nonfinite`).count(), 0);
  } finally {
    await close();
  }
});

test('log y over a narrow range: tick labels are distinct and do not overlap', async () => {
  const { cp, close } = await open([narrow]);
  try {
    await chartDrawn(cp, 'accuracy');
    await cp.page.locator('vscode-checkbox').first().click();
    const { report } = await cp.waitForMessage('rendered', (m) => m.report.metric === 'accuracy' && (m.report.yTicks?.length ?? 0) > 0 && m.report.logY === true);
    const ticks = report.yTicks!;
    assert.equal(new Set(ticks.map((t) => t.label)).size, ticks.length, `distinct labels: ${ticks.map((t) => t.label).join(' ')}`);
    const gaps = ticks.slice(1).map((t, i) => Math.abs(t.px - ticks[i]!.px));
    assert.ok(Math.min(...gaps) >= 14, `labels at least a line apart: ${gaps.join(', ')}`);
    await cp.page.screenshot({ path: join(SHOTS, 'compare-logy.png') });
  } finally {
    await close();
  }
});

test('defaults: the profile gate metric and val_* are charted first', async () => {
  const { cp, close } = await open([alpha, beta, gamma]);
  try {
    await chartDrawn(cp, 'loss');
    const view = await harnessView(cp);
    assert.equal(view.metrics[0], 'val_accuracy', `charts: ${view.metrics.join(', ')}`);
    assert.ok(view.metrics.includes('val_loss'));
  } finally {
    await close();
  }
});

test('scatter defaults to a param that varies; parallel coordinates leave out params that do not', async () => {
  const { cp, close } = await open([alpha, beta, gamma]);
  try {
    await cp.waitForMessage('rendered', (m) => m.report.view === 'chart');
    assert.equal((await harnessView(cp)).scatterParam, 'lr', 'arch and seed are the same in every run that has them');
    await cp.page.getByText('Parallel coordinates', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'parallel');
    const label = (await cp.page.locator('.plot-view canvas').first().getAttribute('aria-label')) ?? '';
    assert.match(label, /Axes: lr, [a-z_]+ \((last|best)\)\./);
  } finally {
    await close();
  }
});

test('table: no ★ for a step-like counter or a crashed run, which is marked apart', async () => {
  const { cp, close } = await open([alpha, beta, gamma]);
  try {
    await cp.waitForMessage('rendered', (m) => m.report.view === 'chart');
    await cp.page.getByText('Table', { exact: true }).click();
    await cp.waitForMessage('rendered', (m) => m.report.view === 'table');
    const headers = await cp.page.locator('.runs-table thead th').allInnerTexts();
    const epochColumns = headers.flatMap((text, i) => (/^epoch/.test(text.trim()) ? [i] : []));
    assert.ok(epochColumns.length > 0);
    for (const i of epochColumns) assert.equal(await cp.page.locator(`.runs-table tbody td:nth-child(${i + 1}).best`).count(), 0, 'epoch is not ranked');
    assert.equal(await cp.page.locator(`tr[data-run="${gamma}"] td.best`).count(), 0, 'a crashed run is never best');
    assert.ok((await cp.page.locator(`tr[data-run="${gamma}"]`).getAttribute('class'))?.includes('failed'), 'the crashed run is marked apart');
    assert.ok((await cp.page.locator(`tr[data-run="${alpha}"] td.best`).count()) > 0, 'alpha has the best finished loss');
    await cp.page.screenshot({ path: join(SHOTS, 'compare-table-best.png') });
  } finally {
    await close();
  }
});

test('an exported PNG carries the metric as a title and a legend below the chart', async () => {
  const { cp, close } = await open([alpha, beta]);
  try {
    await chartDrawn(cp, 'loss');
    await cp.page.locator('.chart-card[aria-label="loss"] button[title="Save as PNG"]').click();
    const { dataUrl, name } = await cp.waitForMessage('exportPng');
    assert.equal(name, 'loss');
    const size = await cp.page.evaluate(async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      const canvas = document.querySelector('.chart-card[aria-label="loss"] canvas') as HTMLCanvasElement;
      return { image: img.height, chart: canvas.height, width: img.width };
    }, dataUrl);
    assert.ok(size.image >= size.chart + 40, `room for a title and a legend: ${JSON.stringify(size)}`);
    await cp.page.evaluate((url) => {
      const img = document.createElement('img');
      img.src = url;
      img.id = 'exported';
      img.style.cssText = 'position:fixed;top:0;left:0;z-index:99;border:1px solid red';
      document.body.append(img);
    }, dataUrl);
    await cp.page.screenshot({ path: join(SHOTS, 'compare-export-png.png') });
  } finally {
    await close();
  }
});
