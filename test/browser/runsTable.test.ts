// The Runs Table webview in headless Chromium on the standalone page harness, answered by a real
// RunsTablePresenter over a real temporary store. Run: node --test test/browser/runsTable.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { change } from '../../src/core/store/changes.ts';
import { Store } from '../../src/core/store/store.ts';
import type { TableAction, TableView, WebviewMessage } from '../../src/shared/runsTableProtocol.ts';
import { connectPresenter, openRunsTablePage, type RunsTablePage } from './runsTableHarness.ts';
import { launchChromium } from './webviewPage.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';

let browser: Browser;
let dir: string;
const stores: Store[] = [];

interface Seeded {
  store: Store;
  /** Run ids by name. */
  id: Record<string, number>;
}

/** Five finished runs, one diverged (NaN last loss, an +Inf point), one running, a sweep of two, one hostile name. */
function seed(): Seeded {
  const store = Store.open(join(mkdtempSync(join(dir, 'ws-')), '.runboard', 'runboard.db'));
  stores.push(store);
  const id: Record<string, number> = {};
  const make = (name: string, params: Record<string, string | number>, metrics: Record<string, number[]>, status: 'finished' | 'running' | 'crashed' = 'finished', parentId?: number) => {
    const run = store.createRun({ name, params, experiment: 'cifar', ...(parentId ? { parentId } : {}) });
    store.markStarted(run.id, null);
    store.logMetrics(
      run.id,
      Object.entries(metrics).flatMap(([key, values]) => values.map((value, step) => ({ key, step, value, wall: 1_700_000_000_000 + step * 1000 }))),
    );
    if (status !== 'running') store.markEnded(run.id, { status });
    id[name] = run.id;
    return run;
  };
  make('alpha', { lr: 0.1, seed: 1, optimizer: 'sgd' }, { loss: [1, 0.5, 0.4], val_accuracy: [0.5, 0.8, 0.9] });
  make('bravo', { lr: 0.03, seed: 1, optimizer: 'adam' }, { loss: [1, 0.3, 0.2], val_accuracy: [0.6, 0.9, 0.95] });
  make('charlie', { lr: 0.01, seed: 1, optimizer: 'adam' }, { loss: [1, Infinity, NaN], val_accuracy: [0.5, 0.6, 0.7] });
  make(XSS, { lr: 0.03, seed: 1, optimizer: 'sgd' }, { loss: [1, 0.6, 0.55], val_accuracy: [0.5, 0.7, 0.92] });
  make('live', { lr: 0.1, seed: 1, optimizer: 'adam' }, { loss: [1, 0.7], val_accuracy: [0.4, 0.6] }, 'running');
  const sweep = make('sweep', { seed: 1 }, {});
  make('sweep-a', { lr: 0.3, seed: 1, optimizer: 'adam' }, { loss: [0.9, 0.8], val_accuracy: [0.3, 0.4] }, 'finished', sweep.id);
  make('sweep-b', { lr: 0.003, seed: 1, optimizer: 'adam' }, { loss: [0.9, 0.1], val_accuracy: [0.3, 0.96] }, 'crashed', sweep.id);
  return { store, id };
}

before(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-webviews.mjs')], { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'runboard-table-'));
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const s of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  tp: RunsTablePage;
  seeded: Seeded;
  presenter: ReturnType<typeof connectPresenter>;
  actions: { action: TableAction; runIds: number[] }[];
  opened: number[];
  saved: TableView[];
}

async function open(seeded = seed(), options: { light?: boolean; height?: number } = {}): Promise<Opened> {
  const tp = await openRunsTablePage(browser, options);
  const actions: Opened['actions'] = [];
  const opened: number[] = [];
  const saved: TableView[] = [];
  const presenter = connectPresenter(tp, seeded.store, {
    execute: async (action, runs) => void actions.push({ action, runIds: runs.map((r) => r.id) }),
    open: async (runId) => void opened.push(runId),
    saveView: (view) => void saved.push(view),
  });
  await tp.waitForMessage('rendered');
  return { tp, seeded, presenter, actions, opened, saved };
}

async function done(o: Opened): Promise<void> {
  assert.deepEqual(o.tp.problems, [], 'no page errors');
  assert.deepEqual(o.tp.cspViolations, [], 'no CSP violations');
  o.presenter.stop();
  await o.tp.close();
}

const header = (column: string) => `.grid-header .grid-cell[data-column="${column}"]`;
const row = (runId: number) => `.grid-row[data-run-id="${runId}"]`;
const lastReport = (o: Opened) => o.tp.sent.findLast((m): m is Extract<WebviewMessage, { type: 'rendered' }> => m.type === 'rendered')!.report;

test('every run with its params and metrics; NaN and +Inf marked; hostile names stay text; best values marked', async () => {
  const o = await open();
  const { id } = o.seeded;
  const report = lastReport(o);
  assert.equal(report.rows, 8);
  assert.deepEqual(report.columns.slice(0, 6), ['status', 'name', 'experiment', 'started', 'duration', 'commit']);
  for (const c of ['param:lr', 'param:optimizer', 'param:seed', 'metric:loss', 'metric:val_accuracy']) assert.ok(report.columns.includes(c), c);
  const page = o.tp.page;
  const nanCell = page.locator(`${row(id.charlie!)} .grid-cell.nonfinite`);
  assert.equal(await nanCell.innerText(), 'NaN');
  assert.match((await nanCell.getAttribute('title'))!, /2 NaN\/±Inf points/);
  const names = await page.locator('.grid-row .grid-cell:nth-child(2)').allInnerTexts();
  assert.ok(names.includes(XSS), 'the hostile name is shown as its text');
  assert.equal(await page.locator('.grid-body img').count(), 0);
  assert.deepEqual(await page.evaluate(() => (window as unknown as { alerted: string[] }).alerted), []);
  // Best val_accuracy: sweep-b has 0.96 but crashed (not ranked); bravo's 0.95 is best. Best loss (min): bravo's 0.2.
  const bestCells = await page.locator('.grid-cell.best').evaluateAll((cells) => cells.map((c) => `${(c.closest('.grid-row') as HTMLElement).dataset.runId}:${c.textContent}`));
  assert.deepEqual(bestCells.sort(), [`${id.bravo}:0.2`, `${id.bravo}:0.95`].sort());
  await page.screenshot({ path: join(SHOTS, 'runs-table-dark.png') });
  await done(o);
});

test('a click sorts by a column, a second click reverses, shift+click adds a second key', async () => {
  const o = await open();
  const { id } = o.seeded;
  const page = o.tp.page;
  let report = await o.tp.rendered(() => page.click(header('param:lr')));
  // lr ascending; runs without lr (the sweep) last; ties newest first.
  assert.deepEqual(report.order, [id['sweep-b'], id.charlie, id[XSS], id.bravo, id.live, id.alpha, id['sweep-a'], id.sweep]);
  report = await o.tp.rendered(() => page.click(header('metric:val_accuracy'), { modifiers: ['Shift'] }));
  // Same lr: by val_accuracy ascending (XSS 0.92 before bravo 0.95; alpha 0.9 after live 0.6).
  assert.deepEqual(report.order, [id['sweep-b'], id.charlie, id[XSS], id.bravo, id.live, id.alpha, id['sweep-a'], id.sweep]);
  report = await o.tp.rendered(() => page.click(header('metric:val_accuracy'), { modifiers: ['Shift'] }));
  assert.deepEqual(report.order, [id['sweep-b'], id.charlie, id.bravo, id[XSS], id.alpha, id.live, id['sweep-a'], id.sweep]);
  assert.equal(await page.locator(`${header('param:lr')} .sort`).innerText(), '↑1');
  assert.equal(await page.locator(`${header('metric:val_accuracy')} .sort`).innerText(), '↓2');
  // From the keyboard: a focused header sorts with Enter and keeps the focus.
  await page.focus(header('experiment'));
  await o.tp.rendered(() => page.keyboard.press('Enter'));
  assert.equal(await page.locator(`${header('experiment')} .sort`).innerText(), '↑');
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.column), 'experiment');
  report = await o.tp.rendered(() => page.click(header('name')));
  assert.equal(report.order[0], id[XSS], '"<img…" sorts first by name');
  const view = await o.tp.waitForMessage('saveView', (m) => m.view.sort.length === 1 && m.view.sort[0]!.column === 'name');
  assert.deepEqual(view.view.sort, [{ column: 'name', descending: false }]);
  await done(o);
});

test('the filter box: a valid expression narrows the rows; an invalid one says where, inline', async () => {
  const o = await open();
  const { id } = o.seeded;
  const page = o.tp.page;
  let report = await o.tp.rendered(() => page.locator('#filter input').fill('params.lr < 0.1 and metrics.val_accuracy >= 0.92 and status = finished'), (r) => r.rows < 8);
  assert.deepEqual([...report.order].sort(), [id.bravo, id[XSS]].sort());
  assert.equal(report.filterError, null);
  assert.equal(await page.locator('.count').innerText(), '2 of 8 runs');
  report = await o.tp.rendered(() => page.locator('#filter input').fill('params.lr < and'), (r) => r.filterError !== null);
  const error = page.locator('.filter-error');
  assert.ok(await error.isVisible());
  // The position is the offending word's, shown with a caret before it.
  assert.match(await error.innerText(), /\(at 13\): params\.lr < \^and$/);
  assert.equal(report.rows, 8, 'an unreadable filter hides nothing');
  await done(o);
});

test('group by a param and by sweep', async () => {
  const o = await open();
  const { id } = o.seeded;
  const page = o.tp.page;
  const groupBy = (value: string) =>
    o.tp.rendered(() =>
      page.evaluate((v) => {
        const select = document.getElementById('group-by') as HTMLElement & { value: string };
        select.value = v;
        select.dispatchEvent(new Event('change'));
      }, value),
    );
  await groupBy('param:optimizer');
  const labels = await page.locator('.grid-row.group').allInnerTexts();
  assert.deepEqual(labels.sort(), ['optimizer = adam · 5 runs', 'optimizer = sgd · 2 runs', 'optimizer not set · 1 run'].sort());
  await groupBy('sweep');
  assert.deepEqual((await page.locator('.grid-row.group').allInnerTexts()).sort(), [`Not in a sweep · 5 runs`, `Sweep sweep #${id.sweep} · 3 runs`].sort());
  // A group's header selects its runs.
  const sweepHeader = page.locator('.grid-row.group', { hasText: 'Sweep sweep' });
  await sweepHeader.click();
  assert.equal(await page.locator('.grid-row.selected').count(), 3);
  await done(o);
});

test('the column chooser searches, hides, pins and sets min/max/best; hide-constant drops constant columns', async () => {
  const o = await open();
  const { id } = o.seeded;
  const page = o.tp.page;
  await page.click('#columns');
  await page.fill('.chooser-search', 'seed');
  assert.deepEqual(await page.locator('.chooser-item .name').allInnerTexts(), ['seed']);
  let report = await o.tp.rendered(() => page.locator('.chooser-item[data-column="param:seed"] input[type=checkbox]').uncheck());
  assert.ok(!report.columns.includes('param:seed'));
  await page.fill('.chooser-search', 'loss');
  report = await o.tp.rendered(() => page.click('.chooser-item[data-column="metric:loss"] button[aria-label="Pin loss"]'));
  assert.deepEqual(report.columns.slice(0, 3), ['status', 'name', 'metric:loss'], 'a pinned column joins the pinned ones');
  assert.ok(await page.locator(`${header('metric:loss')}.pinned`).count());
  report = await o.tp.rendered(() => page.selectOption('.chooser-item[data-column="metric:loss"] select', 'max'));
  assert.equal(await page.locator(`${header('metric:loss')} .label`).innerText(), 'loss (max)');
  // charlie's max skips its +Inf point: the largest finite value, 1.
  assert.equal(await page.locator(`${row(id.charlie!)} .grid-cell.number`).first().innerText(), '1');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.chooser').isVisible(), false, 'Escape closes the chooser');
  // Show seed again, then hide constant columns: seed (1 everywhere) goes, lr stays.
  await page.click('#columns');
  await page.fill('.chooser-search', 'seed');
  await page.locator('.chooser-item[data-column="param:seed"] input[type=checkbox]').check();
  await page.keyboard.press('Escape');
  report = await o.tp.rendered(() => page.locator('#hide-constant').click());
  assert.ok(!report.columns.includes('param:seed'));
  assert.ok(report.columns.includes('param:lr'));
  const saved = await o.tp.waitForMessage('saveView', (m) => m.view.hideConstant);
  assert.ok(saved.view.pinned.includes('metric:loss'));
  assert.equal(saved.view.aggregates.loss, 'max');
  await done(o);
});

test('columns resize by dragging a header edge and reorder by dragging a header', async () => {
  const o = await open();
  const page = o.tp.page;
  const handle = page.locator(`${header('experiment')} .resize`);
  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + 2, box.y + 5);
  await page.mouse.down();
  await page.mouse.move(box.x + 82, box.y + 5, { steps: 4 });
  await page.mouse.up();
  const width = await page.locator(header('experiment')).evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(Math.abs(width - 200) <= 2, `experiment is 200px wide now (${width})`);
  const report = await o.tp.rendered(() => page.dragAndDrop(header('commit'), header('experiment')));
  assert.ok(report.columns.indexOf('commit') < report.columns.indexOf('experiment'), 'commit moved before experiment');
  await done(o);
});

test('selection by mouse (click, shift, ctrl) and keyboard (arrows, shift+arrows, space, ctrl+a, Enter); actions get the selected runs', async () => {
  const o = await open();
  const { id } = o.seeded;
  const page = o.tp.page;
  const order = lastReport(o).order;
  const selected = async () => (await page.locator('.grid-row.selected').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.runId)))).sort((a, b) => a - b);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  await page.click(`${row(order[0]!)} .grid-cell:nth-child(2)`);
  await page.click(`${row(order[2]!)} .grid-cell:nth-child(2)`, { modifiers: ['Shift'] });
  assert.deepEqual(await selected(), sorted(order.slice(0, 3)));
  await page.click(`${row(order[1]!)} .grid-cell:nth-child(2)`, { modifiers: ['Control'] });
  assert.deepEqual(await selected(), sorted([order[0]!, order[2]!]));
  assert.equal(await page.locator('[data-action=compare]').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), false);
  await page.click('[data-action=compare]');
  await waitFor(() => o.actions.length === 1);
  assert.deepEqual(o.actions[0], { action: 'compare', runIds: [order[0], order[2]] });
  // Keyboard: the focus is on order[1] (the last click); the button took the keyboard focus.
  await page.focus('.grid-viewport');
  await page.keyboard.press('ArrowDown');
  assert.deepEqual(await selected(), [order[2]]);
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+ArrowDown');
  assert.deepEqual(await selected(), sorted(order.slice(2, 5)));
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Space');
  assert.deepEqual(await selected(), [], 'space toggles the focused run off');
  await page.keyboard.press('Space');
  assert.deepEqual(await selected(), [order[3]]);
  await page.keyboard.press('Control+a');
  assert.equal((await selected()).length, 8);
  assert.equal(await page.locator('[data-action=diff]').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true, 'Diff Code needs exactly two');
  await page.keyboard.press('Enter');
  await page.dblclick(`${row(id.bravo!)} .grid-cell:nth-child(2)`);
  await waitFor(() => o.opened.length === 2);
  assert.deepEqual(o.opened, [order[3], id.bravo]);
  await done(o);
});

test('live: a running run updates in place; scroll, selection and sort stay', async () => {
  const seeded = seed();
  const { store, id } = seeded;
  for (let i = 0; i < 300; i++) store.createRun({ name: `filler-${String(i).padStart(3, '0')}`, params: { lr: 0.5 + i / 1000 }, experiment: 'bulk' });
  const o = await open(seeded, { height: 600 });
  const page = o.tp.page;
  await o.tp.rendered(() => page.click(header('param:lr')));
  await page.click(`${row(id.live!)} .grid-cell:nth-child(2)`);
  await page.locator('.grid-viewport').evaluate((v) => (v.scrollTop = 2000));
  await page.waitForFunction(() => document.querySelector('.grid-row[data-line="90"]') !== null);
  const before = await page.locator('.grid-viewport').evaluate((v) => v.scrollTop);
  const order = lastReport(o).order;
  store.logMetrics(id.live!, [{ key: 'val_accuracy', step: 2, value: 0.97, wall: 1_700_000_002_000 }]);
  o.presenter.changed(change({ metrics: [id.live!] }));
  const rendered = o.tp.sent.length;
  await waitFor(() => o.tp.sent.slice(rendered).some((m) => m.type === 'rendered'));
  assert.equal(await page.locator('.grid-viewport').evaluate((v) => v.scrollTop), before, 'the scroll stays');
  assert.deepEqual(lastReport(o).selected, [id.live]);
  assert.deepEqual(lastReport(o).order, order, 'the sort stays');
  await page.locator('.grid-viewport').evaluate((v) => (v.scrollTop = 0));
  // Drawn in the next frame.
  await page.waitForSelector(row(id.live!));
  const liveCells = await page.locator(`${row(id.live!)} .grid-cell`).allInnerTexts();
  assert.ok(liveCells.some((t) => t.includes('0.97')), `the new value shows: ${liveCells.join(' | ')}`);
  // The run ends and is deleted: both arrive as changes.
  store.markEnded(id.live!, { status: 'finished' });
  o.presenter.changed(change({ runs: [id.live!] }));
  await page.waitForSelector(`${row(id.live!)} .status-finished`);
  store.deleteRun(id.alpha!);
  o.presenter.changed(change({ deletedRuns: [id.alpha!] }));
  await page.waitForFunction((runId) => document.querySelector(`.grid-row[data-run-id="${runId}"]`) === null, id.alpha);
  assert.equal(lastReport(o).total, 307);
  await done(o);
});

test('light theme screenshot', async () => {
  const o = await open(seed(), { light: true });
  await o.tp.page.click(`${row(lastReport(o).order[1]!)} .grid-cell:nth-child(2)`);
  await o.tp.page.screenshot({ path: join(SHOTS, 'runs-table-light.png') });
  await done(o);
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > end) throw new Error('condition not met in time');
  }
}
