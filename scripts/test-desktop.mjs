// `npm run test:desktop`: the same integration suite in desktop VS Code, through
// @vscode/test-electron, for contributors whose machine can download VS Code. (It cannot here:
// `npm test` runs the suite in the VS Code server instead, see scripts/test-integration.mjs.)
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
for (const script of ['build.mjs', 'build-webviews.mjs', 'build-integration.mjs']) {
  const built = spawnSync(process.execPath, [join(root, 'scripts', script)], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
const workspace = mkdtempSync(join(tmpdir(), 'runboard-desktop-'));
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
const git = (...args) => spawnSync('git', ['-c', 'user.name=Runboard Tests', '-c', 'user.email=tests@runboard.invalid', ...args], { cwd: workspace });
if (git('init', '-q').status === 0) {
  git('add', '-A');
  git('commit', '-q', '-m', 'fixture');
}
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'integration', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (err) {
  console.error(`test:desktop: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
