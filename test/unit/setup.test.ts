import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const setup = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['scripts/setup.mjs', '--check'], { encoding: 'utf8', env: { ...process.env, ...env } });

test('setup names a missing browser in one line and fails', () => {
  const result = setup({ RUNBOARD_CHROMIUM: '/nonexistent/chromium' });
  assert.equal(result.status, 1);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^setup: missing Debian packages: chromium \(/);
  assert.match(lines[0], /sudo apt-get install -y chromium$/);
});

test('setup names every Python package a missing interpreter leaves unmet', () => {
  const result = setup({ RUNBOARD_SETUP_PYTHON: '/nonexistent/python3' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /missing Debian packages: python3 python3-sklearn python3-pandas /);
});

test('setup passes silently on a machine that has everything', () => {
  const result = setup({});
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
});
