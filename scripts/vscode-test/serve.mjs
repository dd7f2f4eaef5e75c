#!/usr/bin/env node
// `npm start`: serve a real VS Code (the server bundled in code-server, see
// install.mjs) on 127.0.0.1 with an extension loaded for development, and
// print the URL to open in a browser. Runs until Ctrl-C.
//
//   node_modules/.bin/node scripts/vscode-test/serve.mjs
//       [--extension <dir>] [--folder <dir>] [--port <n>] [--no-token] [--verbose]
//
// Why a URL payload: server-main.js has no --extensionDevelopmentPath flag;
// the web workbench takes it from the URL's `payload` query parameter
// ([["extensionDevelopmentPath", "vscode-remote://host:port/abs/dir"]]), the
// same way run-tests.mjs passes extensionTestsPath. A *built* VS Code only
// honours that payload when started with --enable-smoke-test-driver (see
// resolveExtensionHostDebugEnvironment in the web workbench), so we pass it
// here too; it merely exposes automation hooks to the page. Reload the
// browser tab ("Developer: Reload Window") after rebuilding the extension.
//
// Security: binds 127.0.0.1 only and, unless --no-token, requires a random
// connection token that is part of the printed URL (?tkn=...). The server
// swaps it for a cookie and redirects to a clean URL on first load.
//
// State (settings stored server-side, installed extensions, HOME) persists in
// .vscode-test/serve/ between runs; delete that folder to reset.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, VSCODE_TEST_DIR, install } from './install.mjs';
import { remoteUri, startServer, stopServer, workbenchUrl } from './server.mjs';

const USAGE = `usage: serve.mjs [--extension <dir>] [--folder <dir>] [--port <n>] [--no-token] [--verbose]
  --extension  extension folder to load for development (default: the repo root)
  --folder     folder to open (default: .vscode-test/serve/workspace, created empty)
  --port       port on 127.0.0.1 (default: a free one)
  --no-token   no connection token (anyone on this machine can connect)
  --verbose    print the VS Code server's output`;

let opts;
try {
  opts = parseArgs({
    options: {
      extension: { type: 'string', default: REPO_ROOT },
      folder: { type: 'string' },
      port: { type: 'string' },
      'no-token': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (e) {
  console.error(`serve.mjs: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

const extensionDir = path.resolve(opts.extension);
if (!fs.existsSync(path.join(extensionDir, 'package.json'))) {
  console.error(`serve.mjs: no package.json in --extension ${extensionDir}`);
  process.exit(2);
}
const extMain = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8')).main;
if (extMain && !fs.existsSync(path.resolve(extensionDir, extMain)) && !fs.existsSync(path.resolve(extensionDir, extMain + '.js'))) {
  console.warn(`[vscode-serve] warning: ${extMain} does not exist yet in ${extensionDir}: build the extension first (npm run build).`);
}
const stateDir = path.join(VSCODE_TEST_DIR, 'serve');
const folder = path.resolve(opts.folder || path.join(stateDir, 'workspace'));
fs.mkdirSync(folder, { recursive: true });
const port = opts.port ? Number(opts.port) : undefined;
if (opts.port && !(port > 0 && port < 65536)) {
  console.error(`serve.mjs: bad --port ${opts.port}`);
  process.exit(2);
}

let server;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log('\n[vscode-serve] stopping VS Code server...');
  await stopServer(server);
  process.exit(code);
}

try {
  await install({ browser: false });
  server = await startServer({
    port,
    homeDir: path.join(stateDir, 'home'),
    dataDir: path.join(stateDir, 'data'),
    extensionsDir: path.join(stateDir, 'extensions'),
    connectionToken: opts['no-token'] ? null : undefined,
    // A dev sandbox on localhost: skip the "trust this folder?" prompt so the
    // extension under development is never held back by restricted mode.
    extraArgs: ['--disable-workspace-trust'],
    smokeTestDriver: true, // required for the extensionDevelopmentPath payload, see above
    onOutput: opts.verbose ? (l) => console.log(`[server] ${l}`) : undefined,
  });
} catch (err) {
  console.error(`[vscode-serve] FAILED: ${err && err.message ? err.message : err}`);
  if (server) await stopServer(server);
  process.exit(1);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => shutdown(0));
server.exitPromise.then((e) => {
  if (stopping) return;
  console.error(`[vscode-serve] VS Code server exited (${JSON.stringify(e)}). Last output:\n${server.output.slice(-30).join('\n')}`);
  stopping = true;
  stopServer(server).then(() => process.exit(1));
});

const url = workbenchUrl(server, {
  folder,
  payload: [['extensionDevelopmentPath', remoteUri(server, extensionDir)]],
});
console.log(`[vscode-serve] VS Code server (pid ${server.pid}) serving on ${server.url}`);
console.log(`[vscode-serve] extension under development: ${extensionDir}`);
console.log(`[vscode-serve] folder: ${folder}`);
console.log('[vscode-serve] open this URL in a browser (Ctrl-C here to stop):\n');
console.log(url);
console.log('');
