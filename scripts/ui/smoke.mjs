#!/usr/bin/env node
// UI smoke test in the browser, done the way a person would: a real VS Code (the server bundled in
// code-server) with Runboard loaded for development on a fresh git-inited copy of
// sample/workspace, driven in headless chromium through playwright-core.
//
//   node_modules/.bin/node scripts/ui/smoke.mjs [--screenshots DIR] [--timeout SECONDS] [--keep] [--verbose]
//
// Steps: command palette → "Runboard: Launch Training Run…" → profile `train` → "Launch with
// defaults"; the run's terminal reports it finished; the Runboard activity-bar view shows the
// experiment, the run and its Metrics; a second run through "Edit parameters…" (lr typed in the
// input box); a third run from the runboard CLI, which appears through the database watcher; the
// three runs selected in the Experiments tree → right-click → "Compare Selected Runs"; the Compare
// webview draws the three curves. The `runboard` CLI (runs/show --json on the workspace's
// database) is the ground truth: 3 finished runs with metrics and the lr each was given.
//
// A screenshot per step goes to DIR (default test-results/ui/). On failure: a clear one-line
// message, a failure-*.png, exit 1 (124 on the overall timeout, 130 when interrupted). The VS Code
// server and the browser are always stopped. Build first (npm run build).

import fs from 'node:fs';
import path from 'node:path';
import { FatalError, launchWorkbench, listRuns, prepareWorkspace, runboardCli, runScenario, setupScenario, showRun, StepError, stepTracker, waitUntil } from '../../test/ui/workbench.mjs';

const USAGE = `usage: smoke.mjs [--screenshots DIR] [--timeout SECONDS] [--keep] [--verbose]
  --screenshots  folder for the step screenshots (default test-results/ui/)
  --timeout      overall limit in seconds, install check excluded (default 240)
  --keep         keep the temp workspace (its .runboard/ holds the runs)
  --verbose      print the VS Code server's output and browser errors`;

const { opts, timeoutSec, shotsDir, log } = setupScenario({
  script: 'smoke.mjs',
  tag: 'ui-smoke',
  usage: USAGE,
  screenshots: 'ui',
  timeout: '240',
  check: (_opts, timeoutSec) => !(timeoutSec > 0) && '--timeout must be a positive number of seconds',
});

let wb;
let workspace;
/** The Monitor step's model server: stopped whatever happens. */
let deployment;
let cleanupPromise;

function cleanup() {
  cleanupPromise ??= (async () => {
    if (deployment) await runboardCli(workspace, ['undeploy', String(deployment.id)], { timeout: 30_000 }).catch((e) => log(`could not stop deployment ${deployment.id}: ${e.message}`));
    if (wb) await wb.close();
    if (workspace && !opts.keep) fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 3 });
    else if (workspace) log(`workspace kept: ${workspace}`);
  })();
  return cleanupPromise;
}

const { step, current } = stepTracker(log);

const experiments = () => wb.pane('Experiments');
const runRow = (name) => wb.treeRows('Experiments', `Run ${name},`);

/** Waits until the database holds `count` finished runs (and none still going); returns them oldest first. */
async function waitFinishedRuns(count) {
  let runs = [];
  await waitUntil(
    `${count} finished run${count === 1 ? '' : 's'} in the database (runboard runs --json)`,
    async () => {
      runs = await listRuns(workspace);
      const bad = runs.find((r) => ['failed', 'killed', 'crashed'].includes(r.status));
      if (bad) throw new FatalError(`run ${bad.name} ended ${bad.status} (exit ${bad.exitCode}); see its terminal in the screenshot`);
      return runs.length === count && runs.every((r) => r.status === 'finished');
    },
    { timeout: 90_000, every: 500 },
  ).catch((e) => {
    if (e instanceof FatalError) throw e;
    throw new StepError(`${e.message}; the database has: ${runs.map((r) => `${r.name} ${r.status}`).join(', ') || 'no runs'}`);
  });
  return [...runs].sort((a, b) => a.id - b.id);
}

/** Launch Training Run… from the palette, profile `train`; then defaults, or `lr` typed in. */
async function launchFromPalette({ lr, shots }) {
  await wb.runCommand('Runboard: Launch Training Run', { onShown: () => shots && wb.shot('02-command-palette') });
  await wb.waitQuickInput('Launch Training Run');
  for (const profile of ['train', 'train-sklearn']) {
    await wb.quickRow(profile).waitFor({ state: 'visible' }).catch(() => {
      throw new StepError(`the profile pick does not offer "${profile}"`);
    });
  }
  if (shots) await wb.shot('03-profile-pick');
  await wb.pickQuickItem('train');
  await wb.waitQuickInput('Launch train');
  if (lr === undefined) {
    await wb.quickRow('Edit parameters…').waitFor({ state: 'visible' });
    if (shots) await wb.shot('04-launch-with-defaults');
    await wb.pickQuickItem('Launch with defaults');
    return;
  }
  await wb.pickQuickItem('Edit parameters…');
  // One input box per param, each prefilled with its default: type lr, keep the others.
  await wb.answerInputBox('Launch train: lr (1/4)', lr, { onFilled: () => wb.shot('07-edit-parameters-lr') });
  for (const [i, name] of ['epochs', 'l2', 'seed'].entries()) {
    const title = `Launch train: ${name} (${i + 2}/4)`;
    await wb.waitQuickInput(title);
    await wb.answerInputBox(title, await wb.quickInputBox.inputValue());
  }
}

/** The run's terminal ("Runboard: <run>") shows that it finished. */
async function waitTerminalFinished(run) {
  const line = new RegExp(`\\[runboard\\] run ${run.id} \\(${run.name}\\) finished`);
  await wb.page
    .locator('.part.panel .terminal-wrapper.active .xterm-rows, .part.panel .xterm-rows')
    .filter({ hasText: line })
    .first()
    .waitFor({ state: 'visible', timeout: 30_000 })
    .catch(() => {
      throw new StepError(`the terminal does not show "[runboard] run ${run.id} (${run.name}) finished"`);
    });
}

async function main() {
  workspace = await step('fresh sample workspace', () => prepareWorkspace());
  log(`workspace: ${workspace}`);

  wb = await step('start VS Code with Runboard in chromium', () => launchWorkbench({ workspace, screenshots: shotsDir, log, verbose: opts.verbose }));
  await wb.shot('01-workbench');

  const [first] = await step('launch `train` with defaults from the command palette', async () => {
    await launchFromPalette({ shots: true });
    const runs = await waitFinishedRuns(1);
    await waitTerminalFinished(runs[0]);
    await wb.shot('05-run-finished-terminal');
    return runs;
  });

  await step(`open Runboard, expand logreg › ${first.name} › Metrics`, async () => {
    await wb.openRunboardView();
    await wb.expandRow(wb.treeRows('Experiments', 'logreg'), 'the experiment "logreg"');
    await waitUntil(`the tree row "Run ${first.name}, finished"`, () => wb.treeRows('Experiments', `Run ${first.name}, finished`).isVisible(), { timeout: 30_000 }).catch(async (e) => {
      throw new StepError(`${e.message}; Experiments shows:\n${await wb.describeTree('Experiments')}`);
    });
    await wb.expandRow(runRow(first.name), `the run ${first.name}`);
    const metricsRow = experiments().locator('.monaco-list-row[aria-level="3"][aria-label^="Metrics"]').first();
    await wb.expandRow(metricsRow, `Metrics of ${first.name}`);
    // The tree lists exactly the metrics the CLI recorded.
    const truth = Object.keys((await showRun(workspace, first.id)).metrics).sort();
    if (truth.length === 0) throw new StepError(`the CLI shows no metrics for ${first.name}`);
    let shown = [];
    await waitUntil(
      `the metrics ${truth.join(', ')} under Metrics`,
      async () => {
        shown = (await experiments().locator('.monaco-list-row[aria-level="4"]').evaluateAll((rs) => rs.map((r) => r.querySelector('.label-name')?.textContent?.trim() ?? ''))).sort();
        return truth.every((k) => shown.includes(k));
      },
      { timeout: 15_000 },
    ).catch(async (e) => {
      throw new StepError(`${e.message}; Experiments shows:\n${await wb.describeTree('Experiments')}`);
    });
    log(`Metrics of ${first.name}: ${shown.join(', ')}`);
    await wb.shot('06-run-metrics-expanded');
  });

  const runs = await step('launch `train` again with lr=0.3 via "Edit parameters…"', async () => {
    await launchFromPalette({ lr: '0.3', shots: false });
    const all = await waitFinishedRuns(2);
    await waitTerminalFinished(all[1]);
    return all;
  });
  const second = runs[1];

  // A third run from a terminal, as a user would with the CLI: it shows up through the database watcher.
  const third = await step('a third run (lr=0.03) from the runboard CLI appears in the tree', async () => {
    await runboardCli(workspace, ['run', '--profile', 'train', '--param', 'lr=0.03']);
    return (await waitFinishedRuns(3))[2];
  });
  const picked = [first, second, third];

  await step(`select ${picked.map((r) => r.name).join(', ')}, right-click › Compare Selected Runs`, async () => {
    await wb.hidePanel();
    await waitUntil(`the tree row "Run ${third.name}, finished"`, () => runRow(third.name).isVisible(), { timeout: 30_000 }).catch(async (e) => {
      throw new StepError(`${e.message}; Experiments shows:\n${await wb.describeTree('Experiments')}`);
    });
    const all = async () => {
      for (const run of picked) if ((await runRow(run.name).getAttribute('aria-selected')) !== 'true') return false;
      return true;
    };
    // A tree refresh landing between the clicks can reset the selection: click again then.
    await waitUntil(
      'the three runs to be selected in the Experiments tree (click, then Ctrl+click)',
      async () => {
        await runRow(third.name).locator('.label-name').click();
        await runRow(second.name).locator('.label-name').click({ modifiers: ['Control'] });
        await runRow(first.name).locator('.label-name').click({ modifiers: ['Control'] });
        return waitUntil('the selection', all, { timeout: 3000 }).catch(() => false);
      },
      { timeout: 30_000, every: 500 },
    ).catch(async (e) => {
      throw new StepError(`${e.message}; Experiments shows:\n${await wb.describeTree('Experiments')}`);
    });
    await wb.shot('08-runs-selected');
    await runRow(first.name).locator('.label-name').click({ button: 'right' });
    await wb.page.locator('.context-view .monaco-menu').waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
      throw new StepError('right-clicking the run opened no context menu');
    });
    await wb.shot('09-context-menu');
    await wb.pickContextMenu('Compare Selected Runs');
  });

  await step('the Compare panel draws the three runs', async () => {
    const tab = wb.page.locator('.part.editor .tab', { hasText: 'Compare' });
    await tab.first().waitFor({ state: 'visible', timeout: 30_000 }).catch(() => {
      throw new StepError('no "Compare" editor tab opened');
    });
    const frame = await wb.waitCompareDrawn(picked.map((r) => r.name));
    const summary = await frame.locator('.app-header .summary').innerText();
    if (!/^3 runs\b/.test(summary)) throw new StepError(`the Compare header says "${summary}", not "3 runs …"`);
    log(`Compare: ${summary}`);
    await wb.shot('10-compare');
  });

  await step('Runboard: Open Runs Table shows the three runs', async () => {
    await wb.runCommand('View: Close All Editors');
    await wb.runCommand('Runboard: Open Runs Table');
    const frame = wb.webviewFrame();
    await waitUntil('the runs table to show the three runs', async () => (await frame.locator('.grid-row[data-run-id]').count().catch(() => 0)) >= 3, { timeout: 60_000 }).catch((e) => {
      throw new StepError(e.message);
    });
    const names = await frame.locator('.grid-row[data-run-id] .grid-cell:nth-child(2)').allInnerTexts();
    for (const run of picked) if (!names.includes(run.name)) throw new StepError(`the runs table lacks ${run.name}; it shows ${names.join(', ')}`);
    await wb.shot('11-runs-table');
  });

  await step('ground truth: the CLI shows 3 finished runs with metrics', async () => {
    const all = await listRuns(workspace);
    if (all.length !== 3 || !all.every((r) => r.status === 'finished')) throw new StepError(`expected 3 finished runs, the CLI lists: ${all.map((r) => `${r.name} ${r.status}`).join(', ')}`);
    const expectLr = { [first.id]: '0.1', [second.id]: '0.3', [third.id]: '0.03' };
    for (const r of all) {
      const shown = await showRun(workspace, r.id);
      const metrics = Object.entries(shown.metrics);
      if (!metrics.length) throw new StepError(`${r.name} has no metrics`);
      const acc = shown.metrics.val_accuracy;
      if (!acc || acc.count !== 20) throw new StepError(`${r.name}: expected 20 val_accuracy points, got ${acc ? acc.count : 'none'}`);
      if (shown.params.lr !== expectLr[r.id]) throw new StepError(`${r.name}: lr is ${shown.params.lr}, expected ${expectLr[r.id]}`);
      log(`${r.name}: ${shown.status}, lr=${shown.params.lr}, ${metrics.length} metrics, val_accuracy ${acc.last}`);
    }
  });

  await step('deploy a forest from the CLI, serve shifted rows, "Runboard: Open Monitor" draws its Monitor panel', async () => {
    await runboardCli(workspace, ['run', '--profile', 'train-sklearn']);
    const trained = (await listRuns(workspace)).find((r) => r.experiment === 'forest' && r.status === 'finished');
    if (!trained) throw new StepError('the train-sklearn run did not finish');
    await runboardCli(workspace, ['models', 'register', String(trained.id), 'model.pkl', '--name', 'forest', '--json'], { json: true });
    const d = (deployment = await runboardCli(workspace, ['deploy', 'forest@1', '--json'], { json: true }));
    if (d.status !== 'running') throw new StepError(`the deployment is ${d.status}: ${d.error}`);
    // The sample's rows become the baseline reference; the test rows again, with x2 moved, drift.
    const rows = ['train', 'test'].flatMap((name) => fs.readFileSync(path.join(workspace, 'data', `${name}.csv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 4).map(Number)));
    const shifted = rows.slice(-120).map(([a, b, c, e]) => [a, b + 2, c, e]);
    for (const instances of [rows, shifted]) {
      const res = await fetch(`${d.url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${d.token}` }, body: JSON.stringify({ instances }) });
      if (res.status !== 200) throw new StepError(`/predict answered ${res.status}`);
    }
    await wb.runCommand('View: Close All Editors');
    await wb.runCommand('Runboard: Open Monitor');
    await wb.waitQuickInput('Open Monitor');
    await wb.pickQuickItem('forest@1 → local');
    const frame = wb.webviewFrame();
    await frame.locator('#section-drift .heatmap').waitFor({ state: 'visible', timeout: 60_000 }).catch(async () => {
      throw new StepError(`the Monitor panel drew no drift heatmap; it says: ${(await frame.locator('main').innerText().catch(() => '')).slice(0, 300)}`);
    });
    log(`Monitor: ${await frame.locator('header .badge').first().innerText()}`);
    await wb.shot('12-monitor');
  });
}

await runScenario({
  name: 'the smoke test',
  log,
  timeoutSec,
  verbose: opts.verbose,
  shotsDir,
  main,
  cleanup,
  getWorkbench: () => wb,
  currentStep: current,
});
