// Shared helpers for the browser-driven UI scripts (scripts/ui/smoke.mjs, scripts/ui/demo.mjs):
// a real VS Code (the server bundled in code-server, scripts/vscode-test/) with Runboard loaded
// for development, a fresh git-inited copy of sample/workspace, and headless chromium driven by
// playwright-core, plus the gestures a person makes: command palette, quick picks, input boxes,
// tree rows, context menus, webviews.
//
// Every wait is a condition with a deadline (Playwright's auto-waiting or `waitUntil`), never a
// bare sleep, so the scripts stay reliable on a slow, loaded machine.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromiumLaunchOptions, install, NODE24, NODE24_DIR, REPO_ROOT } from '../../scripts/vscode-test/install.mjs';
import { onInterrupt, remoteUri, startServer, stopServer, workbenchUrl } from '../../scripts/vscode-test/server.mjs';

export { REPO_ROOT, NODE24 };
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.cjs');


/**
 * Machine settings of the VS Code server (<server-data-dir>/data/Machine/settings.json): no
 * welcome page, no chat side bar, no update/telemetry chatter: a quiet workbench that looks like
 * a developer's, and fewer things that could steal focus from the steps.
 */
export const MACHINE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'extensions.ignoreRecommendations': true,
  'git.openRepositoryInParentFolders': 'never',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'terminal.integrated.gpuAcceleration': 'off',
};

/** Expected on an offline sandbox or pure bookkeeping: left out of the diagnostics. */
const NOISE = [/getaddrinfo (ENOTFOUND|EAI_AGAIN)/, /\[reconnection-grace-time\]/, /same-origin iframe/, /open-vsx\.org|extensionquery|marketplace/i, /authentication provider 'github'/];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A failure the scripts report as one clear line (plus a screenshot), not a stack trace. */
export class StepError extends Error {}

/** Thrown by a `waitUntil` probe to stop waiting at once (e.g. the run failed). */
export class FatalError extends StepError {}

/** Polls `probe` until it returns something truthy; throws StepError naming `what` on timeout. */
export async function waitUntil(what, probe, { timeout = 30_000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      if (e instanceof FatalError) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      throw new StepError(`timed out after ${(timeout / 1000).toFixed(0)}s waiting for ${what}${last ? ` (last error: ${firstLine(last)})` : ''}`);
    }
    await sleep(every);
  }
}

export function firstLine(err) {
  return String(err && err.message ? err.message : err).split('\n')[0];
}

/** A logger with elapsed seconds: `[tag] +12.3s message`. */
/**
 * Named, timed steps for a scenario: `step(name, fn)` logs ▶/✓ around `fn`, and `current()` names
 * the step in progress, for the failure report.
 */
export function stepTracker(log) {
  let current = 'start';
  return {
    current: () => current,
    async step(name, fn) {
      current = name;
      const t = Date.now();
      log(`▶ ${name}`);
      const result = await fn();
      log(`✓ ${name} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
      return result;
    },
  };
}

export function makeLog(tag) {
  const t0 = Date.now();
  const log = (msg) => console.log(`[${tag}] +${((Date.now() - t0) / 1000).toFixed(1)}s ${msg}`);
  log.elapsed = () => (Date.now() - t0) / 1000;
  log.tag = tag;
  return log;
}

/**
 * The start of a UI script (`script` names it in usage errors, `tag` in its log): parses
 * --screenshots DIR (default test-results/<screenshots>/), --timeout SECONDS, --keep, --verbose,
 * --help and the script's own `options`. Exit 2 with `usage` on a bad command line (also when
 * `check(opts, timeoutSec)` returns a message), 0 after --help, 1 when the build is missing.
 * Clears this kind of script's screenshots from an earlier run. Returns { opts, timeoutSec, shotsDir, log }.
 */
export function setupScenario({ script, tag, usage, screenshots, timeout, options = {}, check }) {
  let opts;
  try {
    opts = parseArgs({
      options: {
        screenshots: { type: 'string', default: path.join(REPO_ROOT, 'test-results', screenshots) },
        timeout: { type: 'string', default: timeout },
        keep: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...options,
      },
    }).values;
  } catch (e) {
    console.error(`${script}: ${e.message}\n${usage}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(usage);
    process.exit(0);
  }
  const timeoutSec = Number(opts.timeout);
  const bad = check(opts, timeoutSec);
  if (bad) {
    console.error(`${script}: ${bad}\n${usage}`);
    process.exit(2);
  }
  const shotsDir = path.resolve(opts.screenshots);
  const log = makeLog(tag);

  for (const f of ['dist/extension.cjs', 'dist/cli.cjs', 'dist/webview/compare.js']) {
    if (!fs.existsSync(path.join(REPO_ROOT, f))) {
      console.error(`[${tag}] FAILED: ${f} is missing: build first (npm run build)`);
      process.exit(1);
    }
  }
  // Only our own files from an earlier run: the folder may be shared.
  fs.mkdirSync(shotsDir, { recursive: true });
  for (const f of fs.readdirSync(shotsDir)) if (/^(\d\d-.*|failure-.*)\.png$/.test(f)) fs.rmSync(path.join(shotsDir, f), { force: true });
  log(`screenshots: ${shotsDir}`);
  return { opts, timeoutSec, shotsDir, log };
}

class Timeout extends Error {}

/**
 * Runs a UI script's `main()` and exits the process: 0 when it passes, 1 when it fails (a one-line
 * message, a failure-*.png, page errors, diagnostics, with `verbose` the server's last output),
 * 124 after `timeoutSec`, 130 on SIGINT/SIGTERM (after "<signal>: stopping <stopping>").
 * `cleanup()` (idempotent) always runs, with a hard exit after `graceMs` if it hangs.
 * `getWorkbench()` and `currentStep()` are read at failure time; `name` goes into the timeout
 * message; `passed` is the success word; `listShots` lists the screenshots taken at the end.
 */
export async function runScenario({
  name,
  log,
  timeoutSec,
  verbose,
  shotsDir,
  main,
  cleanup,
  getWorkbench,
  currentStep,
  stopping = 'browser and server',
  pageErrors = true,
  graceMs = 20_000,
  passed = 'PASSED',
  listShots = false,
}) {
  const tag = log.tag;
  onInterrupt(async (sig) => {
    log(`${sig}: stopping ${stopping}`);
    await cleanup();
  });

  let timer;
  let exitCode = 1;
  const t0 = Date.now();
  try {
    await Promise.race([
      main(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Timeout(`${name} did not finish within ${timeoutSec}s`)), timeoutSec * 1000);
      }),
    ]);
    exitCode = 0;
  } catch (err) {
    exitCode = err instanceof Timeout ? 124 : 1;
    const wb = getWorkbench();
    const current = currentStep();
    const message = err instanceof StepError || err instanceof Timeout ? err.message : (err && err.stack) || String(err);
    const failShot = wb ? await wb.shot(`failure-${current.replace(/[^\w]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}`) : undefined;
    console.error(`\n[${tag}] FAILED at step "${current}": ${message}`);
    if (failShot) console.error(`[${tag}] failure screenshot: ${failShot}`);
    if (pageErrors && wb?.pageErrors.length) console.error(`[${tag}] workbench page errors:\n  ${wb.pageErrors.slice(-5).map(firstLine).join('\n  ')}`);
    const diag = wb?.diagnostics() ?? [];
    if (diag.length) console.error(`[${tag}] workbench diagnostics:\n  ${diag.join('\n  ')}`);
    if (verbose && wb?.server) console.error(`[${tag}] last VS Code server output:\n${wb.server.output.slice(-30).join('\n')}`);
  } finally {
    clearTimeout(timer);
    setTimeout(() => process.exit(exitCode || 1), graceMs).unref(); // never hang on cleanup
    await cleanup();
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const wb = getWorkbench();
  log(exitCode === 0 ? `${passed} in ${secs}s` : `FAILED (exit ${exitCode}) after ${secs}s`);
  log(`screenshots in ${shotsDir}${listShots && wb ? `: ${wb.shots.map((f) => path.basename(f)).join(', ')}` : ''}`);
  process.exit(exitCode);
}

/** A fresh copy of sample/workspace in a temp folder, git-inited and committed (clean code state). */
export function prepareWorkspace({ source = path.join(REPO_ROOT, 'sample', 'workspace'), prefix = 'rb-ui-ws-' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(source, dir, { recursive: true, filter: (src) => !/[\\/]\.runboard[\\/](runboard\.db.*|runs|models|deploy)$/.test(src) });
  const git = (...args) =>
    new Promise((resolve, reject) =>
      execFile('git', ['-c', 'user.name=Runboard UI', '-c', 'user.email=ui@runboard.invalid', ...args], { cwd: dir }, (e) => (e ? reject(e) : resolve())),
    );
  return git('init', '-q')
    .then(() => git('add', '-A'))
    .then(() => git('commit', '-q', '-m', 'Sample workspace'))
    .then(
      () => dir,
      (e) => {
        console.warn(`[ui] git init of the sample workspace failed (${firstLine(e)}); runs will record no code state`);
        return dir;
      },
    );
}

/** `runboard` CLI of this checkout on Node 24, against the workspace's database. Resolves with stdout. */
export function runboardCli(workspace, args, { timeout = 120_000, json = false } = {}) {
  const db = path.join(workspace, '.runboard', 'runboard.db');
  return new Promise((resolve, reject) => {
    execFile(NODE24, [CLI, ...args, '--db', db], { cwd: workspace, timeout, maxBuffer: 64 << 20, env: { ...process.env, PATH: `${path.dirname(NODE24)}${path.delimiter}${process.env.PATH}` } }, (err, stdout, stderr) => {
      if (err) {
        reject(new StepError(`runboard ${args.join(' ')} failed (${err.code ?? err.signal}): ${(stderr || stdout || err.message).trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      if (!json) return resolve(stdout);
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new StepError(`runboard ${args.join(' ')} printed no JSON: ${firstLine(e)}`));
      }
    });
  });
}

/** The runs in the workspace's database (`runboard runs --json`), [] while there is no database. */
export async function listRuns(workspace) {
  if (!fs.existsSync(path.join(workspace, '.runboard', 'runboard.db'))) return [];
  return runboardCli(workspace, ['runs', '--json', '--limit', '1000'], { json: true });
}

/** Everything about one run (`runboard show RUN --json`). */
export function showRun(workspace, id) {
  return runboardCli(workspace, ['show', String(id), '--json'], { json: true });
}

/** A `runboard` shim (this checkout's CLI on Node 24) for the workbench's terminals. */
function writeCliShim(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const shim = path.join(dir, 'runboard');
  fs.writeFileSync(shim, `#!/bin/sh\nexec "${NODE24}" "${CLI}" "$@"\n`);
  fs.chmodSync(shim, 0o755);
  return dir;
}

/**
 * Starts the VS Code server with Runboard loaded for development on `workspace`, and chromium on
 * its workbench. Returns a Workbench; always `await wb.close()` (also safe after a failure).
 * options: workspace (required), screenshots (dir), log, viewport, verbose, extensionDir.
 */
export async function launchWorkbench(options) {
  const log = options.log ?? makeLog('ui');
  const installed = await install({ browser: true });
  const wb = new Workbench(options, log);
  try {
    await wb._start(installed);
  } catch (e) {
    await wb.shot('failure-startup').catch(() => undefined);
    await wb.close();
    throw e;
  }
  return wb;
}

export class Workbench {
  constructor(options, log) {
    this.options = options;
    this.log = log;
    this.workspace = options.workspace;
    this.extensionDir = options.extensionDir ?? REPO_ROOT;
    this.screenshots = options.screenshots && path.resolve(options.screenshots);
    this.shots = [];
    this.pageErrors = [];
    /** Console lines about the connection and the extension host (see _start). */
    this.events = [];
    this.server = undefined;
    this.browser = undefined;
    this.page = undefined;
    this._closing = undefined;
  }

  async _start(installed) {
    const { chromium } = await import('playwright-core');
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-ui-'));
    this.scratch = scratch;
    const machineSettings = path.join(scratch, 'data', 'data', 'Machine', 'settings.json');
    fs.mkdirSync(path.dirname(machineSettings), { recursive: true });
    fs.writeFileSync(machineSettings, JSON.stringify({ ...MACHINE_SETTINGS, ...(this.options.settings ?? {}) }, null, 2));
    const bin = writeCliShim(path.join(scratch, 'bin'));
    const t = Date.now();
    this.server = await startServer({
      scratchDir: scratch,
      smokeTestDriver: true, // the workbench honours the extensionDevelopmentPath payload only with it
      extraArgs: ['--disable-workspace-trust'],
      env: { PATH: `${bin}${path.delimiter}${path.join(NODE24_DIR, 'bin')}${path.delimiter}${process.env.PATH}` },
      onOutput: this.options.verbose ? (l) => console.log(`[server] ${l}`) : undefined,
    });
    this.log(`VS Code server up on ${this.server.url} (pid ${this.server.pid}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);

    this.browser = await chromium.launch(chromiumLaunchOptions(installed.chromium));
    // A new context is a fresh, throw-away browser profile.
    this.context = await this.browser.newContext({ viewport: this.options.viewport ?? { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    this.context.setDefaultTimeout(30_000);
    this.page = await this.context.newPage();
    this.page.on('pageerror', (err) => {
      this.pageErrors.push(err.message);
      if (this.options.verbose) console.log(`[browser pageerror] ${err.message}`);
    });
    this.page.on('console', (msg) => {
      const text = msg.text();
      // Connection and extension-host lifecycle: what explains a workbench that lost its views.
      if (/extension host|exthost|reconnect|connection (lost|closed)|websocket|terminated|restart/i.test(text) && !NOISE.some((re) => re.test(text))) this.events.push(`+${this.log.elapsed?.().toFixed(1) ?? '?'}s ${msg.type()}: ${text.slice(0, 300)}`);
      if (this.options.verbose && msg.type() === 'error') console.log(`[browser console.error] ${text}`);
    });

    const url = workbenchUrl(this.server, { folder: this.workspace, payload: [['extensionDevelopmentPath', remoteUri(this.server, this.extensionDir)]] });
    await this.page.goto(url, { waitUntil: 'domcontentloaded', timeout: 90_000 });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
    // The activity bar entry of a contributed container appears once the extension is registered.
    await this.activityItem('Runboard').waitFor({ state: 'visible', timeout: 90_000 });
    this.log('workbench loaded, Runboard in the activity bar');
  }

  // ── screenshots ─────────────────────────────────────────────────────────────
  /** Saves `<screenshots>/<name>.png`; returns its path (undefined without a folder). */
  async shot(name, { parkMouse = true } = {}) {
    if (!this.screenshots || !this.page) return undefined;
    fs.mkdirSync(this.screenshots, { recursive: true });
    const file = path.join(this.screenshots, `${name}.png`);
    try {
      // No hover tooltip in the picture: the mouse rests on the window title, which has none.
      if (parkMouse) await this.page.mouse.move((this.page.viewportSize()?.width ?? 1280) / 2, 6);
      // 'disabled' fast-forwards CSS animations (menus and notifications fade in).
      await this.page.screenshot({ path: file, timeout: 20_000, animations: 'disabled' });
      this.shots.push(file);
      this.log(`screenshot ${path.relative(process.cwd(), file) || file}`);
      return file;
    } catch (e) {
      this.log(`screenshot ${name} failed: ${firstLine(e)}`);
      return undefined;
    }
  }

  // ── locators ────────────────────────────────────────────────────────────────
  activityItem(label) {
    return this.page.locator(`.part.activitybar .action-item a[aria-label^="${cssString(label)}"], .part.activitybar .action-item[aria-label^="${cssString(label)}"]`).first();
  }

  get quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  get quickInputBox() {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  /** Rows of the visible quick pick. */
  get quickRows() {
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  }

  /** A pane (view) of the side bar by its title. */
  pane(title) {
    return this.page.locator('.part.sidebar .pane').filter({ has: this.page.locator(`.pane-header[aria-label^="${cssString(title)}"]`) });
  }

  /** Rows of a side-bar view's tree; with `label`, those whose aria-label starts with it. */
  treeRows(view, label) {
    const rows = this.pane(view).locator('.monaco-list-row');
    return label === undefined ? rows : this.pane(view).locator(`.monaco-list-row[aria-label^="${cssString(label)}"]`);
  }

  /** The aria-labels (and state) of a view's visible tree rows, for error messages. */
  async describeTree(view) {
    const rows = await this.treeRows(view).evaluateAll((rs) =>
      rs.map((r) => `${'  '.repeat(Number(r.getAttribute('aria-level') || 1) - 1)}${r.getAttribute('aria-label')}${r.getAttribute('aria-expanded') === 'true' ? ' [expanded]' : ''}${r.getAttribute('aria-selected') === 'true' ? ' [selected]' : ''}`),
    ).catch(() => []);
    if (rows.length) return rows.join('\n');
    // Seen once under heavy load: every extension's UI vanished at once (a restarted extension host).
    const git = await this.page.locator('.part.statusbar .statusbar-item[id^="status.scm"]').count().catch(() => 0);
    return `(no rows${git ? '' : '; the Git status bar item is gone too, so the extension host probably restarted: see the diagnostics'})`;
  }

  /** The frame of the active webview (outer iframe.webview → inner iframe#active-frame). */
  webviewFrame(index = 0) {
    return this.page.frameLocator('iframe.webview.ready').nth(index).frameLocator('iframe#active-frame');
  }

  // ── gestures ────────────────────────────────────────────────────────────────
  async focusWorkbench() {
    // Keyboard shortcuts go to the focused element: make sure the page has focus.
    await this.page.bringToFront();
  }

  /** Opens the command palette (F1, else Ctrl+Shift+P) and waits for its input. */
  async openPalette() {
    await this.focusWorkbench();
    for (const key of ['F1', 'Control+Shift+P', 'F1']) {
      if (await this.quickInput.isVisible()) await this.page.keyboard.press('Escape');
      await this.page.keyboard.press(key);
      const ok = await this.quickInputBox
        .waitFor({ state: 'visible', timeout: 10_000 })
        .then(async () => (await this.quickInputBox.inputValue()).startsWith('>'))
        .catch(() => false);
      if (ok) return;
    }
    throw new StepError('the command palette did not open (F1 / Ctrl+Shift+P)');
  }

  /**
   * Runs a command from the palette: types `title` (e.g. "Runboard: Launch Training Run") and
   * clicks the row whose label contains it. Retries while the command is not offered yet (the
   * extension is still activating). `onShown` runs while the row is shown (for a screenshot).
   */
  async runCommand(title, { timeout = 60_000, onShown } = {}) {
    const deadline = Date.now() + timeout;
    for (let attempt = 1; ; attempt++) {
      await this.openPalette();
      await this.quickInputBox.fill(`>${title}`);
      const row = this.quickRows.filter({ has: this.page.locator('.label-name', { hasText: title }) }).first();
      const found = await row
        .waitFor({ state: 'visible', timeout: 8_000 })
        .then(() => true)
        .catch(() => false);
      if (found) {
        if (onShown) await onShown();
        await row.click();
        await this.waitQuickInputGone(row, `"${title}" to run`);
        return;
      }
      if (Date.now() > deadline) throw new StepError(`the command palette offers no "${title}" (${attempt} attempts)`);
      await this.page.keyboard.press('Escape');
      await sleep(1000);
    }
  }

  /** Hides the bottom panel (terminal) if it is open, to give the editor area the room. */
  async hidePanel() {
    const panel = this.page.locator('.part.panel');
    if (!(await panel.isVisible())) return;
    await this.runCommand('View: Hide Panel');
    await panel.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {
      throw new StepError('"View: Hide Panel" left the panel open');
    });
  }

  async waitQuickInputGone(row, what) {
    // The picked row leaves the list (the widget closes, or shows the next step).
    await row.waitFor({ state: 'hidden', timeout: 15_000 }).catch(() => {
      throw new StepError(`the quick pick did not take the pick (${what})`);
    });
  }

  /** Waits for a quick pick (or input box) whose title contains `title`. */
  async waitQuickInput(title, { timeout = 30_000 } = {}) {
    const t = this.page.locator('.quick-input-widget .quick-input-title', { hasText: title });
    await t.waitFor({ state: 'visible', timeout }).catch(() => {
      throw new StepError(`no quick input titled "${title}" appeared within ${timeout / 1000}s`);
    });
  }

  /** The quick-pick row whose label text is exactly `label` (codicons ignored), or matches a RegExp. */
  quickRow(label) {
    const re = label instanceof RegExp ? label : new RegExp(`^\\s*${escapeRe(label)}\\s*$`);
    return this.quickRows.filter({ has: this.page.locator('.label-name', { hasText: re }) }).first();
  }

  /** Clicks the quick-pick row labelled `label`; waits for the pick to be taken. */
  async pickQuickItem(label, { timeout = 30_000 } = {}) {
    const row = this.quickRow(label);
    await row.waitFor({ state: 'visible', timeout }).catch(async () => {
      const labels = await this.quickRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
      throw new StepError(`the quick pick has no item "${label}" (items: ${labels.join(' | ') || 'none'})`);
    });
    await row.click();
    await this.waitQuickInputGone(row, `"${label}"`);
  }

  /** In a multi-select quick pick: checks the rows labelled `labels`, then clicks OK. */
  async pickManyQuickItems(labels) {
    for (const label of labels) {
      const row = this.quickRow(label);
      await row.waitFor({ state: 'visible', timeout: 15_000 }).catch(async () => {
        const shown = await this.quickRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
        throw new StepError(`the quick pick has no item "${label}" (items: ${shown.join(' | ') || 'none'})`);
      });
      const box = row.locator('.monaco-checkbox[role="checkbox"]');
      if ((await box.getAttribute('aria-checked')) !== 'true') await box.click();
      await waitUntil(`"${label}" to be checked`, async () => (await box.getAttribute('aria-checked')) === 'true', { timeout: 5000 });
    }
    const ok = this.page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ }).first();
    await ok.click();
    await this.quickInput.waitFor({ state: 'hidden', timeout: 15_000 }).catch(() => {
      throw new StepError('the multi-select quick pick did not close on OK');
    });
  }

  /** Types `value` into the input box titled `title` (replacing its text) and presses Enter; `onFilled` runs before Enter. */
  async answerInputBox(title, value, { onFilled } = {}) {
    await this.waitQuickInput(title);
    await this.quickInputBox.fill(String(value));
    await waitUntil(`the input box "${title}" to hold ${value}`, async () => (await this.quickInputBox.inputValue()) === String(value), { timeout: 5000 });
    if (onFilled) await onFilled();
    await this.page.keyboard.press('Enter');
    await this.page
      .locator('.quick-input-widget .quick-input-title', { hasText: title })
      .waitFor({ state: 'hidden', timeout: 15_000 })
      .catch(() => {
        throw new StepError(`the input box "${title}" did not accept ${value}`);
      });
  }

  /** Opens the Runboard container (click on its activity-bar entry unless it is already open). */
  async openRunboardView() {
    const item = this.activityItem('Runboard');
    await item.waitFor({ state: 'visible' });
    const header = this.page.locator('.part.sidebar .pane-header[aria-label^="Experiments"]');
    if (!(await header.isVisible())) await item.click();
    await header.waitFor({ state: 'visible', timeout: 15_000 }).catch(() => {
      throw new StepError('clicking Runboard in the activity bar did not show the Experiments view');
    });
  }

  /** Expands a view pane (its header) if collapsed. */
  async expandPane(title) {
    const header = this.page.locator(`.part.sidebar .pane-header[aria-label^="${cssString(title)}"]`);
    await header.waitFor({ state: 'visible' });
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    await waitUntil(`the ${title} view to expand`, async () => (await header.getAttribute('aria-expanded')) === 'true', { timeout: 10_000 });
  }

  /** Collapses a view pane (its header) if expanded. */
  async collapsePane(title) {
    const header = this.page.locator(`.part.sidebar .pane-header[aria-label^="${cssString(title)}"]`);
    await header.waitFor({ state: 'visible' });
    if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
    await waitUntil(`the ${title} view to collapse`, async () => (await header.getAttribute('aria-expanded')) === 'false', { timeout: 10_000 });
  }

  /** Drags the sash between the side bar and the editor until the side bar is about `width` px wide. */
  async resizeSidebar(width) {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box) throw new StepError('no side bar to resize');
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width + 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 8 });
    await this.page.mouse.up();
  }

  /**
   * Expands a tree row (a click on its twistie, as a person does) and waits for aria-expanded.
   * Clicks again only when a click was lost (a refresh re-rendered the row meanwhile): never while
   * the row is still loading its children, which would collapse it again.
   */
  async expandRow(row, what, { timeout = 30_000 } = {}) {
    await row.waitFor({ state: 'visible', timeout }).catch(() => {
      throw new StepError(`no tree row for ${what}`);
    });
    const expanded = async () => (await row.getAttribute('aria-expanded')) === 'true';
    const loading = () => row.locator('.monaco-tl-twistie.codicon-tree-item-loading, .monaco-tl-twistie.loading').count().then((n) => n > 0);
    await waitUntil(
      `${what} to expand`,
      async () => {
        if (await expanded()) return true;
        if (!(await loading())) await row.locator('.monaco-tl-twistie').click({ timeout: 5000 });
        return waitUntil('the expansion', expanded, { timeout: 5000, every: 100 }).catch(() => false);
      },
      { timeout, every: 100 },
    );
  }

  /** Picks `item` in the context menu that is open. */
  async pickContextMenu(item) {
    const entry = this.page.locator(`.context-view .monaco-menu .action-item a.action-menu-item:has(.action-label[aria-label="${cssString(item)}"]), .context-view .monaco-menu .action-item a.action-menu-item[aria-label="${cssString(item)}"]`).first();
    await entry.waitFor({ state: 'visible', timeout: 10_000 }).catch(async () => {
      const labels = await this.page.locator('.context-view .monaco-menu .action-label').allInnerTexts().catch(() => []);
      throw new StepError(`the context menu has no "${item}" (items: ${labels.filter(Boolean).join(' | ') || 'no menu open'})`);
    });
    await entry.click();
  }

  /**
   * Waits for the Compare panel's webview to show `runNames` in its run list and to have drawn
   * every run's curve (pixels of the run's swatch colour on the chart canvases). Returns the frame.
   */
  async waitCompareDrawn(runNames, { timeout = 60_000 } = {}) {
    const frame = this.webviewFrame();
    const deadline = Date.now() + timeout;
    const left = () => Math.max(1000, deadline - Date.now());
    await frame.locator('h1', { hasText: 'Compare runs' }).waitFor({ state: 'visible', timeout: left() }).catch(() => {
      throw new StepError('the Compare webview did not show its "Compare runs" heading');
    });
    const items = frame.locator('.run-list .run-items li');
    await waitUntil(
      `the Compare run list to show ${runNames.join(', ')}`,
      async () => {
        const shown = await items.locator('.label').allInnerTexts();
        return runNames.every((n) => shown.includes(n)) && shown.length === runNames.length;
      },
      { timeout: left() },
    ).catch(async (e) => {
      const shown = await items.locator('.label').allInnerTexts().catch(() => []);
      throw new StepError(`${e.message}; it shows: ${shown.join(', ') || 'nothing'}`);
    });
    const canvases = frame.locator('.chart-grid canvas');
    await canvases.first().waitFor({ state: 'visible', timeout: left() }).catch(() => {
      throw new StepError('the Compare webview drew no chart canvas');
    });
    // Every run's curve: pixels of its swatch colour on some canvas.
    const colours = await items.locator('.swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    let counts = [];
    await waitUntil(
      'every run\'s curve to be drawn on the Compare charts',
      async () => {
        counts = await canvases.evaluateAll((cs, cols) => {
          const rgb = cols.map((c) => (c.match(/\d+(\.\d+)?/g) || []).slice(0, 3).map(Number));
          const found = rgb.map(() => 0);
          for (const canvas of cs) {
            if (!canvas.width || !canvas.height) continue;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < data.length; i += 4) {
              if (data[i + 3] < 200) continue;
              rgb.forEach(([r, g, b], k) => {
                if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 24) found[k]++;
              });
            }
          }
          return found;
        }, colours);
        return counts.length === runNames.length && counts.every((n) => n >= 20);
      },
      { timeout: left(), every: 500 },
    ).catch((e) => {
      throw new StepError(`${e.message} (pixels per run colour ${JSON.stringify(colours)}: ${JSON.stringify(counts)})`);
    });
    return frame;
  }

  /** Lines worth printing after a failure: connection/extension-host events and log errors. */
  diagnostics() {
    const out = [...this.events.slice(-15).map((e) => `browser ${e}`)];
    const logs = this.scratch && path.join(this.scratch, 'data', 'data', 'logs');
    try {
      for (const file of walk(logs).filter((f) => /(remoteagent|exthost|remoteexthost|server)\.log$/.test(f))) {
        const bad = fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => /\[error\]|exited|crash|terminat|SIGSEGV|unresponsive/i.test(l) && !NOISE.some((re) => re.test(l)));
        for (const l of bad.slice(-8)) out.push(`${path.relative(logs, file)}: ${l.slice(0, 300)}`);
      }
    } catch {
      /* no logs */
    }
    return out;
  }

  /** Stops server and browser (idempotent). */
  close() {
    this._closing ??= (async () => {
      try {
        if (this.browser) await Promise.race([this.browser.close(), sleep(5000)]);
      } catch {
        /* already gone */
      }
      try {
        if (this.server) await stopServer(this.server);
      } catch {
        /* best effort */
      }
      if (this.scratch && !process.env.RUNBOARD_VSCODE_KEEP_SCRATCH) fs.rmSync(this.scratch, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this._closing;
  }
}

function walk(dir) {
  if (!dir || !fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

export function cssString(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function escapeRe(s) {
  return String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
