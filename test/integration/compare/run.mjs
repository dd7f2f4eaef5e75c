// Runs the Compare panel's real-host test: builds the webview bundle, lays out a throwaway
// extension (fixtureExtension.ts bundled, the webview bundle, a link to node_modules and to the
// sources for the SQL migrations) and hands it to scripts/vscode-test/run-tests.mjs.
//   node_modules/.bin/node test/integration/compare/run.mjs [--verbose]
import * as esbuild from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'runboard-compare-it-'));
const workspace = join(dir, 'workspace');
const ext = join(dir, 'extension');
try {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-webviews.mjs')], { stdio: 'inherit' });
  mkdirSync(join(ext, 'dist'), { recursive: true });
  mkdirSync(workspace);
  cpSync(join(root, 'dist', 'webview'), join(ext, 'dist', 'webview'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(ext, 'node_modules'));
  // paths.ts finds the migrations beside a package.json named "runboard".
  symlinkSync(join(root, 'src'), join(ext, 'src'));
  writeFileSync(
    join(ext, 'package.json'),
    JSON.stringify({
      name: 'runboard',
      publisher: 'runboard-it',
      version: '0.0.1',
      private: true,
      engines: { vscode: '^1.101.0' },
      activationEvents: ['onStartupFinished'],
      main: './extension.cjs',
      contributes: {
        commands: [
          { command: 'runboard.compareRuns', title: 'Compare Runs', category: 'Runboard' },
          { command: 'runboard.showCodeDiff', title: 'Diff Code of Two Runs', category: 'Runboard' },
        ],
      },
    }),
  );
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node22', external: ['vscode', 'better-sqlite3', 'mocha'], define: { 'import.meta.dirname': '__dirname' }, logLevel: 'warning' };
  await esbuild.build({ ...common, entryPoints: [join(here, 'fixtureExtension.ts')], outfile: join(ext, 'extension.cjs') });
  await esbuild.build({ ...common, entryPoints: [join(here, 'suite.ts')], outfile: join(ext, 'suite.cjs') });
  const shots = join(root, 'test-results', 'screenshots');
  const args = [join(root, 'scripts', 'vscode-test', 'run-tests.mjs'), '--extension', ext, '--tests', join(ext, 'suite.cjs'), '--workspace', workspace, '--screenshots', shots, '--timeout', '300'];
  if (process.argv.includes('--verbose')) args.push('--verbose');
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
