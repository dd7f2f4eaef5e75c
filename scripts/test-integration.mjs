// Runs the integration tests inside a real VS Code: builds the extension and the tests, copies
// the fixture workspace to a fresh temp folder (a git repository, so runs record a commit), and
// hands both to the in-host harness (scripts/vscode-test/run-tests.mjs).
//
//   node_modules/.bin/node scripts/test-integration.mjs [--grep REGEX] [--keep] [harness options…]
//
// --grep sets MOCHA_GREP; --keep leaves the temp workspace behind; anything else (--verbose,
// --screenshots DIR, --logs DIR, --timeout S) goes to the harness.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const take = (flag, withValue) => {
  const i = args.indexOf(flag);
  if (i === -1) return undefined;
  const [, value] = args.splice(i, withValue ? 2 : 1);
  return withValue ? value : true;
};
const grep = take('--grep', true);
const keep = take('--keep', false);

const started = Date.now();
const step = (what, command, commandArgs, options = {}) => {
  const t = Date.now();
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`test-integration: ${what} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
  console.log(`test-integration: ${what} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
};

step('built the extension', process.execPath, ['scripts/build.mjs']);
step('built the webviews', process.execPath, ['scripts/build-webviews.mjs']);
step('built the tests', process.execPath, ['scripts/build-integration.mjs']);

const workspace = mkdtempSync(join(tmpdir(), 'runboard-it-'));
cpSync(join(root, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
const git = (...gitArgs) => spawnSync('git', ['-c', 'user.name=Runboard Tests', '-c', 'user.email=tests@runboard.invalid', ...gitArgs], { cwd: workspace, stdio: 'ignore' });
if (git('init', '-q').status === 0) {
  git('add', '-A');
  git('commit', '-q', '-m', 'fixture');
}

let code = 1;
try {
  const harness = spawnSync(
    process.execPath,
    ['scripts/vscode-test/run-tests.mjs', '--extension', root, '--tests', join(root, 'out', 'integration', 'index.js'), '--workspace', workspace, ...args],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...(grep ? { MOCHA_GREP: grep } : {}) } },
  );
  code = harness.status ?? 1;
} finally {
  if (keep) console.log(`test-integration: workspace kept at ${workspace}`);
  else rmSync(workspace, { recursive: true, force: true });
}
console.log(`test-integration: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
process.exit(code);
