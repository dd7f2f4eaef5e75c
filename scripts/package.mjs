#!/usr/bin/env node
// `npm run package`: one VSIX per platform, each carrying only its own better-sqlite3 binary
// (VS Code installs the VSIX that matches the user's platform, so shipping all eight would
// only make every download eight times the native weight).
//
//   node scripts/package.mjs [--target linux-x64 …] [--out DIR]
//
// Without --target it packages every platform into dist-vsix/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** VS Code's target name → better-sqlite3's prebuilt binary for it. */
export const TARGETS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'alpine-x64': 'linuxmusl-x64',
  'alpine-arm64': 'linuxmusl-arm64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, out: { type: 'string', default: 'dist-vsix' } } });
const targets = values.target ?? Object.keys(TARGETS);
const unknown = targets.filter((target) => !(target in TARGETS));
if (unknown.length) {
  console.error(`package: unknown target ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
const outDir = resolve(root, values.out);
mkdirSync(outDir, { recursive: true });

const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const sharedIgnore = readFileSync(join(root, '.vscodeignore'), 'utf8').replace('!node_modules/better-sqlite3/prebuilds/**\n', '');
const vsce = join(root, 'node_modules', '.bin', 'vsce');
for (const target of targets) {
  const ignoreFile = join(outDir, `.vscodeignore-${target}`);
  const binary = TARGETS[target];
  // better-sqlite3 picks lib/<binary>.js, which requires prebuilds/<binary>.node.
  writeFileSync(ignoreFile, `${sharedIgnore}!node_modules/better-sqlite3/prebuilds/${binary}.node\n`);
  const vsix = join(outDir, `runboard-${target}-${version}.vsix`);
  try {
    // Relative README links stay relative: vsce can only make them absolute from a `repository` in package.json.
    run(vsce, ['package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--no-rewrite-relative-links', '--out', vsix]);
  } finally {
    rmSync(ignoreFile, { force: true });
  }
}
