import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { parseProfiles } from '../../src/core/launch/profiles.ts';
import { compileRegex, MAX_REGEX_LINE_LENGTH, nestedQuantifier, parseLine } from '../../src/core/tracking/lineParser.ts';
import { tempDir } from './helpers.ts';
import { CLI_DEADLINE_MS } from './cliHarness.ts';
import { PY } from './launchHelpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
const CATASTROPHIC = '^(?<loss>(\\d+)+)$';

test('a profile whose regex would stall capture is refused in one line, before anything runs (it hung for minutes)', () => {
  const ws = tempDir();
  mkdirSync(join(ws, '.runboard'));
  // 30 digits and a letter: the line that took more than 20 s to fail to match.
  writeFileSync(join(ws, 'train.py'), `print("${'1'.repeat(30)}x", flush=True)\n`);
  const profile = { command: ['${interpreter}', 'train.py'], interpreter: PY, regex: CATASTROPHIC };
  writeFileSync(join(ws, '.runboard', 'profiles.json'), JSON.stringify({ profiles: { slow: profile } }));
  // A child process with a deadline shows the old behaviour (minutes) without hanging the suite.
  const ran = spawnSync(process.execPath, [CLI, 'run', '--profile', 'slow'], { cwd: ws, env: { ...process.env, RUNBOARD_DB: '' }, encoding: 'utf8', timeout: CLI_DEADLINE_MS, killSignal: 'SIGKILL' });
  assert.equal(ran.error, undefined, `the CLI did not finish within ${CLI_DEADLINE_MS / 1000} s (${ran.error?.message})`);
  assert.notEqual(ran.status, 0);
  assert.match(ran.stderr, /profile "slow": regex .*repeats a repetition \(\(\\d\+\)\+\)/);
  assert.equal(ran.stderr.trim().split('\n').length, 1, ran.stderr);
});

test('nested quantifiers are found; ordinary metric patterns pass', () => {
  const refused = { [CATASTROPHIC]: '(\\d+)+', '(a*)*': '(a*)*', '(a+){2,5}': '(a+){2,5}', '(\\d{1,3})+': '(\\d{1,3})+', '(?:loss=(?<loss>[\\d.]+)\\s*)+': '(?:loss=(?<loss>[\\d.]+)\\s*)+' };
  for (const [pattern, part] of Object.entries(refused)) assert.equal(nestedQuantifier(new RegExp(pattern).source), part, pattern);
  const accepted = ['loss=(?<loss>\\S+)', '(?<key>\\w+)=(?<value>[^ ]+)', '(?<a>\\d+)?', '[(]+(\\d)+', '\\((\\d+)\\)+', '(?<=x)(?<n>\\d+)', '(a|b)+c', '((?<a>\\d+))', 'step (?<step>\\d+)/\\d+ .*loss: (?<loss>[-+.\\deE]+)'];
  for (const pattern of accepted) assert.equal(nestedQuantifier(new RegExp(pattern).source), undefined, pattern);
  assert.throws(() => compileRegex(CATASTROPHIC), UserError);
  assert.throws(() => parseProfiles(JSON.stringify({ profiles: { p: { command: ['x'], regex: CATASTROPHIC } } })), /profile "p": regex is not usable/);
});

test(`lines longer than ${MAX_REGEX_LINE_LENGTH} characters go to the built-in readers only`, () => {
  const regex = compileRegex('^(?<loss>\\d+)x');
  const short = parseLine(`5x${' '.repeat(MAX_REGEX_LINE_LENGTH - 2)}`, regex);
  assert.equal(short.kind === 'metrics' && short.reader, 'regex');
  assert.equal(short.kind === 'metrics' && short.values.get('loss'), 5);
  const long = parseLine(`5x${' '.repeat(MAX_REGEX_LINE_LENGTH - 1)} acc=0.5`, regex);
  assert.equal(long.kind === 'metrics' && long.reader, 'pairs');
  assert.deepEqual(long.kind === 'metrics' && [...long.values], [['acc', 0.5]]);
});

test('a runaway regex without nested quantifiers finishes on a long line; one that cannot be bounded is refused', () => {
  // Cubic backtracking: minutes on a 1,000-character line before V8's linear-engine fallback was on.
  const script = `
    import { compileRegex, parseLine } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'core', 'tracking', 'lineParser.ts'))};
    const regex = compileRegex('(?<loss>\\\\d+)\\\\d*\\\\d*x');
    const miss = parseLine('1'.repeat(1000) + 'y', regex);
    const hit = parseLine('12x', regex);
    console.log(JSON.stringify([miss.kind, hit.kind === 'metrics' ? hit.values.get('loss') : null]));
  `;
  const ran = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: CLI_DEADLINE_MS, killSignal: 'SIGKILL' });
  assert.equal(ran.error, undefined, `matching one line did not finish within ${CLI_DEADLINE_MS / 1000} s (${ran.error?.message})`);
  assert.equal(ran.status, 0, ran.stderr);
  assert.deepEqual(JSON.parse(ran.stdout), ['text', 12]);
  assert.throws(() => compileRegex('(?<a>\\d)\\k<a>'), /cannot be matched in bounded time/);
});
