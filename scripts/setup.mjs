#!/usr/bin/env node
// The machine set-up that `npm test` and `npm start` run first (npm's pretest/prestart), so that
// the README's two commands work on a fresh Debian machine: the packages our tests and the
// product use from Debian. As root it installs what is missing; otherwise it stops with one line
// naming them. `--check` only reports (exit 1 when something is missing).
//
// code-server and its build packages are installed by scripts/vscode-test/install.mjs, on first
// use, because they are only needed by the VS Code suites and `npm start`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM, ensureAptPackages } from './vscode-test/install.mjs';

const python = process.env.RUNBOARD_SETUP_PYTHON || '/usr/bin/python3';
const pythonImports = (module) => spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
const onPath = (command) => spawnSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' }).status === 0;

/** Each need: the Debian package that meets it, and how to tell it is met. */
const needs = [
  { pkg: 'git', why: 'code state of runs', met: () => onPath('git') },
  { pkg: 'python3', why: 'training scripts and the model server', met: () => existsSync(python) },
  { pkg: 'chromium', why: 'browser and VS Code tests, npm start', met: () => existsSync(CHROMIUM) },
  { pkg: 'python3-sklearn', why: 'scikit-learn training, deploy and monitoring tests', met: () => pythonImports('sklearn') },
  { pkg: 'python3-pandas', why: 'DataFrame references in monitoring tests', met: () => pythonImports('pandas') },
  { pkg: 'python3-yaml', why: 'checking the Kubernetes manifests Runboard writes', met: () => pythonImports('yaml') },
];

const missing = needs.filter((need) => !need.met());
if (missing.length === 0) process.exit(0);

const names = missing.map((need) => need.pkg);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (process.argv.includes('--check') || !isRoot) {
  console.error(`setup: missing Debian packages: ${names.join(' ')} (for ${missing.map((need) => need.why).join('; ')}). Install them: sudo apt-get install -y ${names.join(' ')}`);
  process.exit(1);
}
try {
  ensureAptPackages(names);
} catch (error) {
  console.error(`setup: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
