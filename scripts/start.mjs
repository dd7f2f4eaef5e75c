// `npm start`: a copy of the sample ML workspace, served in a real VS Code with Runboard loaded.
// The copy lives in .vscode-test/sample-workspace and keeps its runs between starts; delete the
// folder to start afresh.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE24, REPO_ROOT, VSCODE_TEST_DIR } from './vscode-test/install.mjs';

const workspace = join(VSCODE_TEST_DIR, 'sample-workspace');
if (!existsSync(workspace)) {
  cpSync(join(REPO_ROOT, 'sample', 'workspace'), workspace, { recursive: true });
  // A git history makes the recorded code state (commit, dirty, patch) meaningful.
  const git = (...args) => execFileSync('git', args, { cwd: workspace, stdio: 'ignore' });
  try {
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=Runboard Sample', '-c', 'user.email=sample@runboard.invalid', 'commit', '-qm', 'Sample workspace');
  } catch {
    console.warn('start: git is not available; runs will record no code state.');
  }
}

// `runboard` in VS Code's terminals: the CLI of this checkout, on Node 24.
const bin = join(VSCODE_TEST_DIR, 'bin');
mkdirSync(bin, { recursive: true });
const shim = join(bin, 'runboard');
writeFileSync(shim, `#!/bin/sh\nexec "${NODE24}" "${join(REPO_ROOT, 'dist', 'cli.cjs')}" "$@"\n`);
chmodSync(shim, 0o755);

const serve = spawn(NODE24, [join(REPO_ROOT, 'scripts', 'vscode-test', 'serve.mjs'), '--folder', workspace, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => serve.kill(signal));
serve.on('exit', (code) => process.exit(code ?? 1));
