// The extension as users get it: packages the VSIX of this platform (scripts/package.mjs),
// installs it into a fresh extensions folder with the VS Code server's --install-extension, and
// runs test/installed/ in a real VS Code where that installed copy is the only Runboard.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { install, NODE24, VSCODE_TEST_DIR } from './vscode-test/install.mjs';

const root = resolve(import.meta.dirname, '..');
const target = `${process.platform}-${process.arch}`;
const step = (what, command, args, options = {}) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`test-installed: ${what} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
};

const installed = await install({ browser: true });
const vsixDir = join(VSCODE_TEST_DIR, 'vsix');
rmSync(vsixDir, { recursive: true, force: true });
step('packaging', process.execPath, ['scripts/package.mjs', '--target', target, '--out', vsixDir]);
const [vsix] = readdirSync(vsixDir).filter((f) => f.endsWith('.vsix'));

const scratch = mkdtempSync(join(tmpdir(), 'runboard-installed-'));
const extensionsDir = join(scratch, 'extensions');
try {
  step('installing the VSIX', NODE24, [installed.serverMain, '--install-extension', join(vsixDir, vsix), '--extensions-dir', extensionsDir, '--server-data-dir', join(scratch, 'data')], {
    env: { ...process.env, HOME: scratch },
  });
  step('building the tests', process.execPath, ['scripts/build-integration.mjs', '--suite', 'installed']);
  const workspace = join(scratch, 'workspace');
  cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
  step('the installed-copy suite', process.execPath, [
    'scripts/vscode-test/run-tests.mjs',
    '--extension', join(root, 'test', 'installed', 'runner'),
    '--tests', join(root, 'out', 'installed', 'index.js'),
    '--workspace', workspace,
    '--extensions-dir', extensionsDir,
    ...process.argv.slice(2),
  ], { env: { ...process.env, RUNBOARD_EXTENSIONS_DIR: extensionsDir } });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
