// Start/stop the VS Code server that code-server bundles (install.mjs).
//
// Why server-main.js and not the `code-server` CLI: the CLI wraps VS Code in
// its own HTTP layer and ignores the workbench URL `payload` that carries
// extensionDevelopmentPath/extensionTestsPath; server-main.js (VS Code's own
// remote server) honours it, and with --enable-smoke-test-driver the web
// workbench reports the test result through window.codeAutomationExit.
//
// Everything mutable (HOME, TMPDIR, server data, extensions) goes into
// scratch dirs so a run never touches the developer's real VS Code state.
// TMPDIR stays under os.tmpdir() because VS Code puts unix sockets there and
// socket paths are limited to ~108 bytes.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NODE24, NODE24_DIR, serverMainPath } from './install.mjs';

export const HOST = '127.0.0.1';

/** A currently free TCP port on 127.0.0.1 (the OS picks it). */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function mkdirp(dir) {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** vscode-remote URI for an absolute path on this server. */
export function remoteUri(server, absPath) {
  const p = path.resolve(absPath).split(path.sep).map(encodeURIComponent).join('/');
  return `vscode-remote://${server.authority}${p}`;
}

/**
 * Workbench URL. `payload` is VS Code's web-embedder way to pass what the
 * desktop CLI takes as flags, e.g. [["extensionDevelopmentPath", uri]].
 */
export function workbenchUrl(server, { folder, payload, token = server.connectionToken } = {}) {
  const q = new URLSearchParams();
  if (folder) q.set('folder', path.resolve(folder));
  if (payload && payload.length) q.set('payload', JSON.stringify(payload));
  if (token) q.set('tkn', token);
  return `${server.url}/?${q.toString()}`;
}

/**
 * Starts server-main.js with Node 24.
 * options:
 *   port            fixed port (default: a free one)
 *   scratchDir      root for HOME/TMPDIR/data/extensions (default: fresh temp dir, deleted on stop)
 *   dataDir, extensionsDir, homeDir   override single dirs (kept on stop)
 *   connectionToken string, or null for --without-connection-token (default: random token)
 *   smokeTestDriver add --enable-smoke-test-driver (needed for codeAutomationExit)
 *   extraArgs       more server-main args
 *   env             extra environment for the server (inherited by the extension host)
 *   onOutput(line)  receives server stdout/stderr lines (default: buffered only)
 *   startTimeoutMs  how long to wait for HTTP (default 60 s)
 * Set RUNBOARD_VSCODE_KEEP_SCRATCH=1 to keep the temp scratch dir (server and
 * extension-host logs are in <scratch>/data/data/logs) for debugging.
 */
export async function startServer(options = {}) {
  // A port picked by findFreePort can be taken before the server binds it;
  // retry with a fresh one in that (rare) case.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(options);
    } catch (err) {
      if (options.port || attempt >= 3 || !/EADDRINUSE/.test(String(err && err.message))) throw err;
    }
  }
}

async function startServerOnce(options) {
  const serverMain = serverMainPath();
  if (!fs.existsSync(serverMain)) throw new Error(`${serverMain} missing: run scripts/vscode-test/install.mjs first`);
  const port = options.port || (await findFreePort());
  const ownScratch = !options.scratchDir;
  const scratch = options.scratchDir ? mkdirp(path.resolve(options.scratchDir)) : fs.mkdtempSync(path.join(os.tmpdir(), 'rb-vscode-'));
  const homeDir = mkdirp(options.homeDir || path.join(scratch, 'home'));
  const tmpDir = mkdirp(path.join(scratch, 'tmp'));
  const dataDir = mkdirp(options.dataDir || path.join(scratch, 'data'));
  const extensionsDir = mkdirp(options.extensionsDir || path.join(scratch, 'extensions'));
  const connectionToken = options.connectionToken === undefined ? crypto.randomBytes(24).toString('hex') : options.connectionToken;

  const args = [
    serverMain,
    '--host', HOST,
    '--port', String(port),
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--server-data-dir', dataDir,
    '--extensions-dir', extensionsDir,
  ];
  if (connectionToken) args.push('--connection-token', connectionToken);
  else args.push('--without-connection-token');
  if (options.smokeTestDriver) args.push('--enable-smoke-test-driver');
  if (options.extraArgs) args.push(...options.extraArgs);

  const env = { ...process.env };
  // Leftovers of a surrounding VS Code / npm run would confuse the server
  // (e.g. VSCODE_IPC_HOOK_CLI, ELECTRON_RUN_AS_NODE, npm_config_*).
  for (const k of Object.keys(env)) {
    if (/^(VSCODE_|ELECTRON_|npm_)/i.test(k)) delete env[k];
  }
  Object.assign(env, {
    HOME: homeDir,
    TMPDIR: tmpDir,
    XDG_CONFIG_HOME: path.join(homeDir, '.config'),
    XDG_CACHE_HOME: path.join(homeDir, '.cache'),
    XDG_DATA_HOME: path.join(homeDir, '.local', 'share'),
    PATH: `${path.join(NODE24_DIR, 'bin')}${path.delimiter}${process.env.PATH || ''}`,
    ...(options.env || {}),
  });

  // detached: own process group, so stop() can kill the extension host,
  // pty host and file watcher children together with the server.
  const child = spawn(NODE24, args, { env, cwd: homeDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  const onLine = (line) => {
    output.push(line);
    if (output.length > 400) output.shift();
    if (options.onOutput) options.onOutput(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    stream.on('end', () => buf && onLine(buf));
  }
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));

  const server = {
    pid: child.pid,
    port,
    host: HOST,
    authority: `${HOST}:${port}`,
    url: `http://${HOST}:${port}`,
    connectionToken,
    scratchDir: scratch,
    homeDir, tmpDir, dataDir, extensionsDir,
    output,
    exited: () => exited,
    exitPromise,
    stop: () => stopServer(server),
    _child: child,
    _ownScratch: ownScratch,
  };
  // Last resort if the caller dies without stopping us.
  server._onExit = () => killGroup(child.pid, 'SIGKILL');
  process.on('exit', server._onExit);

  // /version answers 200 without a token once the HTTP side is up.
  const deadline = Date.now() + (options.startTimeoutMs || 60_000);
  for (;;) {
    if (exited) {
      await stopServer(server);
      throw new Error(`VS Code server exited during startup (${JSON.stringify(exited)}). Output:\n${output.slice(-40).join('\n')}`);
    }
    // server-main logs EADDRINUSE but keeps running: fail fast instead.
    if (output.some((l) => /EADDRINUSE/.test(l))) {
      await stopServer(server);
      throw new Error(`port ${port} is in use (EADDRINUSE). Output:\n${output.slice(-10).join('\n')}`);
    }
    if ((await httpGet(`${server.url}/version`)) === 200) break;
    if (Date.now() > deadline) {
      await stopServer(server);
      throw new Error(`VS Code server did not answer on ${server.url} within ${(options.startTimeoutMs || 60_000) / 1000}s. Output:\n${output.slice(-40).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return server;
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM the server's process group, SIGKILL after 5 s; removes own scratch dir. */
export async function stopServer(server) {
  if (!server || server._stopped) return;
  server._stopped = true;
  process.removeListener('exit', server._onExit);
  const pid = server._child.pid;
  if (killGroup(pid, 'SIGTERM')) {
    const deadline = Date.now() + 5000;
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  }
  if (server._ownScratch && process.env.RUNBOARD_VSCODE_KEEP_SCRATCH) {
    console.log(`[vscode-test] kept server scratch dir (logs in data/data/logs): ${server.scratchDir}`);
  } else if (server._ownScratch) {
    try {
      fs.rmSync(server.scratchDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* best effort */
    }
  }
}

/**
 * SIGINT/SIGTERM: `stop(signal)` once (a second signal while it runs is ignored), then exit 130.
 * The signals are ours, not Playwright's: its handlers would exit before the server is stopped.
 * Returns () => whether a signal came.
 */
export function onInterrupt(stop) {
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      if (interrupted) return;
      interrupted = true;
      await stop(sig);
      process.exit(130);
    });
  }
  return () => interrupted;
}
