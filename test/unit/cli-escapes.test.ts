import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, json, type CliResult } from './cliHarness.ts';
import { tempDir } from './helpers.ts';

// Sets the terminal's title, rings the bell and clears the screen when printed raw; U+009B is an 8-bit CSI.
const HOSTILE = 'evil\x1b]0;owned\x07\x1b[2J\x9b2J\x7f\rname';
// Control characters (C0, DEL, C1) that a terminal acts on; \n ends lines on purpose.
const CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

function assertInert(result: CliResult, what: string): void {
  assert.ok(!CONTROLS.test(result.stdout), `${what}: stdout carries a raw control character: ${JSON.stringify(result.stdout)}`);
  assert.ok(!CONTROLS.test(result.stderr), `${what}: stderr carries a raw control character: ${JSON.stringify(result.stderr)}`);
}

test('escape sequences in run names reach no terminal raw from run, runs, show, import and errors; --json keeps the exact name', () => {
  const ws = tempDir();
  const run = (...args: string[]) => cli(args, { cwd: ws });
  const started = run('run', '--name', HOSTILE, '--', 'python3', '-c', 'pass');
  assert.equal(started.code, 0, started.stderr);
  assertInert(started, 'run');
  assert.match(started.stderr, /evil\\u001b\]0;owned\\u0007\\u001b\[2J\\u009b2J\\u007f\\u000dname/, 'shown, escaped, so a reader sees what is there');

  const listed = run('runs');
  assertInert(listed, 'runs');
  assert.match(listed.stdout, /evil\\u001b/);
  assertInert(run('show', '1'), 'show');
  assertInert(run('show', HOSTILE), 'show of an unknown name (the error echoes it)');

  const folder = join(ws, 'outside');
  mkdirSync(folder);
  writeFileSync(join(folder, 'run.json'), JSON.stringify({ name: HOSTILE, started: 1_700_000_000_000, ended: 1_700_000_001_000, status: 'finished' }));
  const imported = run('import', folder);
  assert.equal(imported.code, 0, imported.stderr);
  assertInert(imported, 'import');

  for (const args of [['runs', '--json'], ['show', '1', '--json']]) {
    const result = run(...args);
    assertInert(result, args.join(' '));
    const parsed = json(result);
    assert.equal((Array.isArray(parsed) ? parsed.find((r: { id: number }) => r.id === 1) : parsed).name, HOSTILE, `${args.join(' ')} keeps the exact name`);
  }
});
