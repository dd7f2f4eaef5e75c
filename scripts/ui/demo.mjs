#!/usr/bin/env node
// `npm run demo`: screenshots of Runboard's main screens in a real VS Code (the server bundled in
// code-server) driven headless by playwright-core, for the README, reviews and release notes.
//
//   node_modules/.bin/node scripts/ui/demo.mjs [--screenshots DIR] [--theme dark|light] [--timeout SECONDS] [--keep] [--verbose]
//
// A fresh git-inited copy of sample/workspace is populated from the `runboard` CLI first (fast,
// no UI): a baseline run, a 6-run grid sweep of `train`, a scikit-learn forest (train-sklearn),
// registered as model `forest` and deployed locally, with a few prediction requests for traffic.
// Then the workbench: the Runboard side bar, a run's tree expanded, Compare over the sweep's runs
// (curves, table, parallel coordinates), the runs table, the Monitor panel, the Models and
// Deployments views and the walkthrough. `npm run demo` takes them in both themes into
// docs/screenshots/, where the README shows them.
// The deployment is stopped (`runboard undeploy`) at the end, whatever happens.
//
// Needs /usr/bin/python3 with scikit-learn (the train-sklearn profile). Build first (npm run build).

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { firstLine, launchWorkbench, listRuns, prepareWorkspace, runboardCli, runScenario, setupScenario, showRun, StepError, stepTracker, waitUntil } from '../../test/ui/workbench.mjs';

const USAGE = `usage: demo.mjs [--screenshots DIR] [--theme dark|light] [--timeout SECONDS] [--keep] [--verbose]
  --screenshots  output folder (default test-results/demo/)
  --theme        workbench colour theme (default dark)
  --timeout      overall limit in seconds (default 300)
  --keep         keep the temp workspace
  --verbose      print the VS Code server's output and browser errors`;

const THEMES = { dark: 'Default Dark Modern', light: 'Default Light Modern' };
const { opts, timeoutSec, shotsDir, log } = setupScenario({
  script: 'demo.mjs',
  tag: 'demo',
  usage: USAGE,
  screenshots: 'demo',
  timeout: '300',
  options: { theme: { type: 'string', default: 'dark' } },
  check: (o, timeoutSec) => (!THEMES[o.theme] || !(timeoutSec > 0)) && 'bad --theme or --timeout',
});

let wb;
let workspace;
let deployment;
let cleanupPromise;

function cleanup() {
  cleanupPromise ??= (async () => {
    if (wb) await wb.close();
    if (deployment) {
      await runboardCli(workspace, ['undeploy', String(deployment.id)], { timeout: 30_000 }).then(
        (out) => log(out.trim()),
        (e) => console.error(`[demo] could not stop deployment ${deployment.id}: ${firstLine(e)}`),
      );
    }
    if (workspace && !opts.keep) fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 3 });
    else if (workspace) log(`workspace kept: ${workspace}`);
  })();
  return cleanupPromise;
}

const { step, current } = stepTracker(log);

function checkSklearn() {
  return new Promise((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', 'import sklearn'], (err) =>
      err ? reject(new StepError('the train-sklearn profile needs /usr/bin/python3 with scikit-learn (apt-get install python3-sklearn)')) : resolve(),
    ),
  );
}

/**
 * Traffic for the Deployments and Monitor views: the sample's rows (the first 500 served become
 * the baseline reference), then the test rows again with x2 moved, which drift.
 */
async function sendTraffic(dep) {
  const rows = ['train', 'test'].flatMap((name) =>
    fs
      .readFileSync(path.join(workspace, 'data', `${name}.csv`), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').slice(0, 4).map(Number)),
  );
  const shifted = rows.slice(-120).map(([a, b, c, e]) => [a, b + 2, c, e]);
  for (let start = 0; start < rows.length; start += 100) await predict(dep, rows.slice(start, start + 100));
  for (let start = 0; start < shifted.length; start += 40) await predict(dep, shifted.slice(start, start + 40));
}

async function predict(dep, instances) {
  const res = await fetch(`${dep.url}/predict`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${dep.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ instances }),
  });
  if (!res.ok) throw new StepError(`POST ${dep.url}/predict answered ${res.status}: ${await res.text()}`);
}

async function populate() {
  await checkSklearn();
  await runboardCli(workspace, ['run', '--profile', 'train', '--name', 'baseline']);
  const sweep = await runboardCli(workspace, ['sweep', '--profile', 'train', '--name', 'lr-sweep', '--json'], { json: true });
  await runboardCli(workspace, ['run', '--profile', 'train-sklearn', '--name', 'forest-50']);
  const runs = await listRuns(workspace);
  const bad = runs.filter((r) => r.status !== 'finished');
  if (bad.length) throw new StepError(`runs did not finish: ${bad.map((r) => `${r.name} ${r.status}`).join(', ')}`);
  const forest = runs.find((r) => r.name === 'forest-50');
  const parent = runs.find((r) => r.name === 'lr-sweep');
  const children = [];
  for (const r of runs.filter((x) => parent && x.parent === parent.id)) children.push({ ...r, params: (await showRun(workspace, r.id)).params });
  if (children.length < 3) throw new StepError(`the sweep made ${children.length} runs (expected 6): ${JSON.stringify(sweep).slice(0, 200)}`);
  children.sort((a, b) => Number(b.params.lr) - Number(a.params.lr) || Number(a.params.seed) - Number(b.params.seed));
  log(`runs: ${runs.map((r) => r.name).join(', ')}`);
  await runboardCli(workspace, ['models', 'register', String(forest.id), 'model.pkl', '--name', 'forest', '--alias', 'production']);
  deployment = await runboardCli(workspace, ['deploy', 'forest', '--json'], { json: true, timeout: 60_000 });
  if (deployment.status !== 'running') throw new StepError(`runboard deploy forest: ${deployment.status} ${deployment.error ?? ''}`);
  log(`deployment ${deployment.id}: forest@${deployment.version} on ${deployment.url}`);
  await sendTraffic(deployment);
  const listed = (await runboardCli(workspace, ['deployments', '--json'], { json: true })).find((d) => d.id === deployment.id);
  log(`traffic sent: the CLI counts ${listed?.requests?.requests ?? '?'} requests (p50 ${listed?.requests?.p50 ?? '—'} ms)`);
  return { runs, children, parent, forest };
}

/** The Deployments row of the forest deployment (label "forest@1 → local"). */
const deploymentRow = () => wb.treeRows('Deployments').filter({ has: wb.page.locator('.label-name', { hasText: /^forest@\d/ }) }).first();

async function main() {
  workspace = await step('fresh sample workspace', () => prepareWorkspace());
  const data = await step('populate from the CLI: run, sweep, sklearn run, register, deploy', populate);

  wb = await step('start VS Code with Runboard in chromium', () =>
    launchWorkbench({
      workspace,
      screenshots: shotsDir,
      log,
      verbose: opts.verbose,
      viewport: { width: 1440, height: 900 },
      settings: { 'workbench.colorTheme': THEMES[opts.theme] },
    }),
  );

  await step('the Runboard side bar with the runs, the sweep, models and deployments', async () => {
    await wb.openRunboardView();
    await wb.resizeSidebar(430);
    await wb.expandRow(wb.treeRows('Experiments', 'logreg'), 'the experiment logreg');
    await wb.expandRow(wb.treeRows('Experiments', 'forest'), 'the experiment forest');
    await wb.expandRow(wb.treeRows('Experiments', `Run ${data.parent.name},`), `the sweep ${data.parent.name}`);
    await wb.expandPane('Deployments');
    await deploymentRow().waitFor({ state: 'visible', timeout: 30_000 }).catch(async () => {
      throw new StepError(`the Deployments view shows no forest deployment:\n${await wb.describeTree('Deployments')}`);
    });
    await wb.treeRows('Models', 'forest').first().waitFor({ state: 'visible', timeout: 30_000 });
    await wb.shot('01-sidebar');
  });

  await step('a run expanded: params and metrics', async () => {
    // The sweep's runs are listed twice (in logreg and under the sweep): fold the sweep back.
    const sweepRow = wb.treeRows('Experiments', `Run ${data.parent.name},`);
    await sweepRow.locator('.monaco-tl-twistie').click();
    await waitUntil('the sweep row to collapse', async () => (await sweepRow.getAttribute('aria-expanded')) === 'false', { timeout: 10_000 });
    const run = wb.treeRows('Experiments', 'Run baseline,');
    await wb.expandRow(run, 'the run baseline');
    const groups = wb.pane('Experiments').locator('.monaco-list-row[aria-level="3"]');
    await wb.expandRow(groups.filter({ has: wb.page.locator('.label-name', { hasText: /^Params$/ }) }).first(), 'Params of baseline');
    await wb.expandRow(groups.filter({ has: wb.page.locator('.label-name', { hasText: /^Metrics$/ }) }).first(), 'Metrics of baseline');
    await wb.pane('Experiments').locator('.monaco-list-row[aria-level="4"]').nth(5).waitFor({ state: 'visible' });
    await wb.shot('02-run-tree');
  });

  const names = data.children.map((r) => r.name);
  const frame = await step(`Compare over the sweep's ${names.length} runs (palette, multi-select pick)`, async () => {
    await wb.runCommand('Runboard: Compare Selected Runs');
    await wb.waitQuickInput('Compare runs');
    await wb.pickManyQuickItems(names);
    const f = await wb.waitCompareDrawn(names);
    await wb.shot('03-compare-curves');
    return f;
  });

  await step('Compare: table tab', async () => {
    await frame.locator('vscode-tab-header', { hasText: /^\s*Table\s*$/ }).click();
    const rows = frame.locator('table.runs-table tbody tr');
    await waitUntil(`the table to list ${names.length} runs`, async () => (await rows.count()) === names.length, { timeout: 15_000 });
    await wb.shot('04-compare-table');
  });

  await step('Compare: parallel coordinates tab', async () => {
    await frame.locator('vscode-tab-header', { hasText: /Parallel coordinates/ }).click();
    const canvas = frame.locator('.plot-view canvas').first();
    await canvas.waitFor({ state: 'visible', timeout: 15_000 });
    await waitUntil('the parallel-coordinates plot to be drawn', () => canvas.evaluate((c) => c.width > 0 && c.height > 0), { timeout: 15_000 });
    await wb.shot('05-compare-parallel');
  });

  await step('the runs table over every run, sweep runs included', async () => {
    await wb.runCommand('View: Close All Editors');
    await wb.runCommand('Runboard: Open Runs Table');
    const table = wb.webviewFrame();
    await waitUntil(`the runs table to list ${data.runs.length} runs`, async () => (await table.locator('.grid-row[data-run-id]').count().catch(() => 0)) >= data.runs.length, { timeout: 60_000 });
    await wb.shot('06-runs-table');
  });

  await step('the Monitor panel of the deployment, after shifted rows', async () => {
    await wb.runCommand('View: Close All Editors');
    await wb.runCommand('Runboard: Open Monitor');
    await wb.waitQuickInput('Open Monitor');
    await wb.pickQuickItem(`forest@${deployment.version} → local`);
    const monitor = wb.webviewFrame();
    await monitor.locator('#section-drift .heatmap').waitFor({ state: 'visible', timeout: 60_000 });
    await wb.shot('07-monitor');
  });

  await step('the Models and Deployments views', async () => {
    await wb.collapsePane('Experiments');
    await wb.expandRow(wb.treeRows('Models', 'forest').first(), 'the model forest');
    await deploymentRow().waitFor({ state: 'visible' });
    // The monitor tails the request log: wait for the traffic we sent.
    await waitUntil(
      'the deployment row to show its traffic',
      async () => /\breq/.test(await deploymentRow().innerText()),
      { timeout: 20_000 },
    ).catch(async (e) => log(`note: ${e.message}; Deployments shows: ${await wb.describeTree('Deployments')}`));
    await wb.shot('08-models-deployments');
    const dep = deploymentRow().locator('.label-name');
    await dep.hover();
    const hover = wb.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'deployment' }).first();
    if (await hover.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false)) await wb.shot('09-deployment-tooltip', { parkMouse: false });
    else log('note: no tooltip on the deployment row');
  });

  await step('the walkthrough (Runboard: Get Started)', async () => {
    await wb.runCommand('Runboard: Get Started');
    await wb.page.locator('.part.editor', { hasText: 'Get started with Runboard' }).first().waitFor({ state: 'visible', timeout: 30_000 }).catch(() => {
      throw new StepError('"Runboard: Get Started" did not show the "Get started with Runboard" walkthrough');
    });
    await wb.page.locator('.part.editor .getting-started-step', { hasText: 'Describe how you train' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await wb.shot('10-walkthrough');
  });
}

await runScenario({
  name: 'the demo',
  log,
  timeoutSec,
  verbose: opts.verbose,
  shotsDir,
  main,
  cleanup,
  getWorkbench: () => wb,
  currentStep: current,
  stopping: 'browser, server and the deployment',
  pageErrors: false,
  graceMs: 30_000,
  passed: 'done',
  listShots: true,
});
