#!/usr/bin/env node
// Runs a mocha suite inside a REAL VS Code extension host.
//
//   node_modules/.bin/node scripts/vscode-test/run-tests.mjs \
//     --extension <dir> --tests <path to compiled tests index.js> \
//     [--workspace <dir>] [--screenshots <dir>] [--logs <dir>] [--timeout <s>] [--verbose]
//     [--disable-extension <id>]... [--extensions-dir <dir>]
//
// Why it works this way: @vscode/test-electron cannot download VS Code here,
// so we start the VS Code server bundled in code-server (install.mjs,
// server.mjs) with --enable-smoke-test-driver and open its web workbench in
// headless chromium via playwright-core. The workbench URL's `payload`
// carries extensionDevelopmentPath + extensionTestsPath (the same inputs
// test-electron passes as CLI flags); the extension runs in the server's
// Node 24 extension host, `run()` from the tests index executes mocha, and
// when it settles the workbench calls window.codeAutomationExit(code) —
// exposed below — whose code becomes this process's exit code.
//
// Exit codes: the suite's code (0 = all passed), 124 = overall timeout,
// 2 = bad usage, 1 = harness failure, 130 = interrupted.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, parseArgs } from 'node:util';
import { chromiumLaunchOptions, install } from './install.mjs';
import { onInterrupt, remoteUri, startServer, stopServer, workbenchUrl } from './server.mjs';

const USAGE = `usage: run-tests.mjs --extension <dir> --tests <index.js> [--workspace <dir>]
                    [--screenshots <dir>] [--logs <dir>] [--timeout <seconds>] [--verbose]
  --extension    extension folder (its package.json), loaded as extensionDevelopmentPath
  --tests        compiled tests index module exporting run(): Promise<void> (extensionTestsPath)
  --workspace    folder to open (default: a fresh empty temp folder)
  --screenshots  write a PNG of the workbench at the end into this folder
  --logs         write the workbench's log files into this folder
  --timeout      overall limit in seconds, install excluded (default 300)
  --verbose      also print the VS Code server's own output and browser console errors
  --disable-extension <id>   disable a (built-in) extension, repeatable
  --extensions-dir <dir>     the server's extensions folder (extensions installed there load too)
Environment variables (e.g. MOCHA_GREP) reach the extension host through the server.`;

function log(msg) {
  console.log(`[vscode-test] ${msg}`);
}

function usage(msg) {
  if (msg) console.error(`run-tests.mjs: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      extension: { type: 'string' },
      tests: { type: 'string' },
      workspace: { type: 'string' },
      screenshots: { type: 'string' },
      logs: { type: 'string' },
      timeout: { type: 'string', default: '300' },
      verbose: { type: 'boolean', default: false },
      'disable-extension': { type: 'string', multiple: true, default: [] },
      'extensions-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!opts.extension || !opts.tests) usage('--extension and --tests are required');
const extensionDir = path.resolve(opts.extension);
const testsIndex = path.resolve(opts.tests);
const timeoutSec = Number(opts.timeout);
if (!fs.existsSync(path.join(extensionDir, 'package.json'))) usage(`no package.json in --extension ${extensionDir}`);
if (!fs.existsSync(testsIndex)) usage(`--tests ${testsIndex} does not exist (compiled yet?)`);
if (!(timeoutSec > 0)) usage('--timeout must be a positive number of seconds');
const extMain = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8')).main;
if (extMain && !fs.existsSync(path.resolve(extensionDir, extMain)) && !fs.existsSync(path.resolve(extensionDir, extMain + '.js'))) {
  console.warn(`[vscode-test] warning: the extension's main ${extMain} does not exist: build it first.`);
}

// Workbench chatter that is expected on an offline sandbox (no GitHub, no
// marketplace, no service worker over plain http) or is pure connection
// bookkeeping. Hidden unless --verbose so the mocha report stands out.
const NOISE = [
  /^\[(AgentHost|AgentHost:remote|ChatModelSelection|AccountPolicyGate|reconnection-grace-time)\]/,
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket \(/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\] registration/,
  /Timed out waiting for authentication provider 'github'/,
  /getaddrinfo (ENOTFOUND|EAI_AGAIN)/,
];

let server;
let browser;
let page;
let tempWorkspace;
let cleanupPromise;

// Idempotent; concurrent callers (signal handler + finally) share one run.
function cleanup() {
  cleanupPromise ??= (async () => {
    try {
      if (browser) await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]);
    } catch {
      /* already gone */
    }
    try {
      if (server) await stopServer(server);
    } catch {
      /* best effort */
    }
    if (tempWorkspace) fs.rmSync(tempWorkspace, { recursive: true, force: true });
  })();
  return cleanupPromise;
}

async function screenshot(label) {
  if (!opts.screenshots || !page) return;
  try {
    const dir = path.resolve(opts.screenshots);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `vscode-test-${label}-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
    await page.screenshot({ path: file, timeout: 10_000 });
    log(`screenshot: ${file}`);
  } catch (e) {
    log(`screenshot failed: ${e.message}`);
  }
}

function writeLogs(entries) {
  if (!opts.logs || !Array.isArray(entries)) return;
  const dir = path.resolve(opts.logs);
  for (const { relativePath, contents } of entries) {
    const file = path.join(dir, relativePath);
    if (!file.startsWith(dir + path.sep)) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, contents);
  }
  log(`workbench logs: ${dir} (${entries.length} files)`);
}

async function main(installed) {
  const t0 = Date.now();
  const { chromium } = await import('playwright-core');

  let workspace = opts.workspace && path.resolve(opts.workspace);
  if (!workspace) workspace = tempWorkspace = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-vscode-ws-'));
  fs.mkdirSync(workspace, { recursive: true });

  server = await startServer({
    smokeTestDriver: true,
    extensionsDir: opts['extensions-dir'] && path.resolve(opts['extensions-dir']),
    // As in VS Code's own web smoke tests: a restricted-mode workspace would
    // keep the extension under test from activating.
    extraArgs: ['--disable-workspace-trust', ...opts['disable-extension'].flatMap((id) => ['--disable-extension', id])],
    onOutput: opts.verbose ? (l) => console.log(`[server] ${l}`) : undefined,
  });
  log(`VS Code server up on ${server.url} (pid ${server.pid}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);

  browser = await chromium.launch(chromiumLaunchOptions(installed.chromium));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();

  let resolveExit;
  const exitCode = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationLog', (level, message) => {
    // Every workbench log entry arrives here, including the extension
    // host's console output (mocha's reporter) as console-style arg arrays.
    const text = Array.isArray(message) ? format(...message) : String(message);
    if (!opts.verbose && NOISE.some((re) => re.test(text))) return;
    for (const line of text.replace(/\n$/, '').split('\n')) {
      console.log(level === 'info' ? line : `[${level}] ${line}`);
    }
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    writeLogs(logs);
    resolveExit(typeof code === 'number' ? code : 1);
  });
  page.on('pageerror', (err) => opts.verbose && console.log(`[browser pageerror] ${err.message}`));
  page.on('console', (msg) => opts.verbose && msg.type() === 'error' && console.log(`[browser console.error] ${msg.text()}`));
  page.on('crash', () => log('browser page crashed'));

  const url = workbenchUrl(server, {
    folder: workspace,
    payload: [
      ['extensionDevelopmentPath', remoteUri(server, extensionDir)],
      ['extensionTestsPath', remoteUri(server, testsIndex)],
    ],
  });
  log(`extension: ${extensionDir}`);
  log(`tests:     ${testsIndex}`);
  log(`workspace: ${workspace}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

  const serverDied = server.exitPromise.then((e) => {
    throw new Error(`VS Code server exited unexpectedly (${JSON.stringify(e)}):\n${server.output.slice(-40).join('\n')}`);
  });
  const browserDied = new Promise((_, reject) => browser.on('disconnected', () => reject(new Error('browser disconnected'))));
  const code = await Promise.race([exitCode, serverDied, browserDied]);
  await screenshot(code === 0 ? 'passed' : 'failed');
  log(`suite finished with exit code ${code} (${code === 0 ? 'PASSED' : 'FAILED'}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return code;
}

class Timeout extends Error {}

let timer;
// Started after install so a cold install (minutes) does not eat the budget.
function startTimeout() {
  return new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`TIMEOUT: the suite did not finish within ${timeoutSec}s`)), timeoutSec * 1000);
  });
}

const interrupted = onInterrupt(async (sig) => {
  log(`${sig}: stopping browser and server`);
  await cleanup();
});

let exitCode = 1;
try {
  const installed = await install({ browser: true });
  exitCode = await Promise.race([main(installed), startTimeout()]);
} catch (err) {
  if (interrupted()) {
    exitCode = 130;
  } else if (err instanceof Timeout) {
    exitCode = 124;
    console.error(`[vscode-test] ${err.message}`);
    await screenshot('timeout');
    if (server) console.error(`[vscode-test] last VS Code server output:\n${server.output.slice(-30).join('\n')}`);
  } else {
    exitCode = 1;
    console.error(`[vscode-test] HARNESS FAILURE: ${err && err.stack ? err.stack : err}`);
  }
} finally {
  clearTimeout(timer);
  // Never hang on cleanup: hard exit after 20 s.
  setTimeout(() => process.exit(exitCode || 1), 20_000).unref();
  await cleanup();
}
process.exit(exitCode);
