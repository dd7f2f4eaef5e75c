import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  addScriptProfile,
  expandProfile,
  findProfile,
  findProfilesWorkspace,
  getProfile,
  loadProfiles,
  PARAM_FIELDS,
  PARAM_TYPES,
  parseProfiles,
  PROFILE_FIELDS,
  readProfiles,
  resolveParams,
} from '../../src/core/launch/profiles.ts';
import { packageRoot } from '../../src/core/paths.ts';
import { tempDir } from './helpers.ts';

const TRAIN = {
  command: ['${interpreter}', 'train.py', '--lr', '${param:lr}', '--name=${param:tag}', '${workspaceFolder}/data'],
  cwd: 'src',
  env: { OMP_NUM_THREADS: '${param:threads}', PLAIN: 'cost $${HOME}' },
  params: [
    { name: 'lr', type: 'number', default: 0.01, description: 'learning rate' },
    { name: 'threads', type: 'int', default: 2 },
    { name: 'tag', type: 'string' },
    { name: 'amp', type: 'bool', default: false },
    { name: 'opt', type: 'choice', choices: ['adam', 'sgd', 1], default: 'adam' },
  ],
  inputs: ['data/${param:tag}.csv'],
  outputs: 'out/${runId}',
  interpreter: '.venv/bin/python',
  regex: 'loss=(?<loss>\\S+)',
  gates: ['accuracy>=0.9', 'min(loss)<=0.3'],
  sweep: { grid: { lr: [0.1, 0.01] }, random: { count: 4, params: { threads: { min: 1, max: 8 } } }, parallel: 2 },
  experiment: 'mnist',
};

const parse = (profiles: unknown) => parseProfiles(JSON.stringify({ profiles }));

test('a valid profile is read with its defaults; placeholders fill whole or partial argv elements, never through a shell', () => {
  const profile = parse({ train: TRAIN }).get('train')!;
  assert.equal(profile.experiment, 'mnist');
  assert.deepEqual(profile.gates, ['accuracy>=0.9', 'min(loss)<=0.3']);
  assert.deepEqual(profile.sweep, { grid: { lr: [0.1, 0.01] }, random: { count: 4, params: { threads: { min: 1, max: 8, log: false } } }, parallel: 2 });

  const params = resolveParams(profile, { tag: 'a b; rm -rf ~ "$(x)"', lr: '1e-3', amp: 'yes', opt: '1' });
  assert.deepEqual(params, { lr: 0.001, threads: 2, tag: 'a b; rm -rf ~ "$(x)"', amp: true, opt: 1 });
  const expanded = expandProfile(profile, params, { workspace: '/ws' });
  assert.deepEqual(expanded.command, ['/ws/.venv/bin/python', 'train.py', '--lr', '0.001', '--name=a b; rm -rf ~ "$(x)"', '/ws/data']);
  assert.equal(expanded.cwd, '/ws/src');
  assert.deepEqual(expanded.env, { OMP_NUM_THREADS: '2', PLAIN: 'cost ${HOME}' });
  assert.deepEqual(expanded.inputs, ['/ws/data/a b; rm -rf ~ "$(x)".csv']);
  assert.equal(expanded.outputs, '/ws/out/${runId}');
  assert.equal(expandProfile(profile, params, { workspace: '/ws', interpreter: '/opt/py' }).command[0], '/opt/py', 'an explicit interpreter wins');
  assert.equal(expandProfile({ ...profile, interpreter: undefined }, params, { workspace: '/ws' }).command[0], 'python3');
});

test('param values are checked by type, and every param needs a value', () => {
  const profile = parse({ train: TRAIN }).get('train')!;
  const bad: [Record<string, string>, RegExp][] = [
    [{ tag: 'x', lr: 'fast' }, /--param lr=fast: lr must be a number \(param "lr" is number\), not "fast"/],
    [{ tag: 'x', lr: '' }, /lr must be a number/],
    [{ tag: 'x', threads: '2.5' }, /threads must be an integer/],
    [{ tag: 'x', amp: 'maybe' }, /amp must be true or false/],
    [{ tag: 'x', opt: 'rmsprop' }, /opt must be one of "adam", "sgd", 1/],
    [{ tag: 'x', momentum: '0.9' }, /profile "train" has no param "momentum" \(its params: lr, threads, tag, amp, opt\)/],
    [{}, /profile "train" needs a value for tag \(no default\): pass --param tag=…/],
  ];
  for (const [overrides, message] of bad) assert.throws(() => resolveParams(profile, overrides), { name: 'UserError', message }, JSON.stringify(overrides));
});

test('a broken profiles.json is one clear UserError naming the profile and the field', () => {
  const cases: [string, RegExp][] = [
    ['{ "profiles": { "train": ', /profiles\.json is not valid JSON/],
    ['[]', /must hold an object/],
    ['{ "profile": {} }', /unknown field "profile" \(expected "profiles"\)/],
    [JSON.stringify({ profiles: { train: { comand: ['python'] } } }), /profile "train": field "comand" is unknown/],
    [JSON.stringify({ profiles: { train: { command: [] } } }), /profile "train": command must be a non-empty array/],
    [JSON.stringify({ profiles: { train: { command: 'python train.py' } } }), /profile "train": command must be a non-empty array of strings \(argv, no shell\)/],
    [JSON.stringify({ profiles: { train: { command: ['python', 3] } } }), /profile "train": command\[1\] must be a string/],
    [JSON.stringify({ profiles: { train: { command: ['${param:lr}'] } } }), /profile "train": command\[0\] uses \$\{param:lr\} but "params" declares no "lr"/],
    [JSON.stringify({ profiles: { train: { command: ['x', '${runId}'] } } }), /command\[1\] has an unknown placeholder \$\{runId\}/],
    [JSON.stringify({ profiles: { train: { command: ['x'], env: { A: 1 } } } }), /profile "train": env\.A must be a string/],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'lr', type: 'float' }] } } }), /params\[0\]\.type must be one of number, int, string, bool, choice/],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'lr', type: 'number', default: '0.1' }] } } }), /params\[0\]\.default must be a number/],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'd', type: 'int', default: 2.5 }] } } }), /params\[0\]\.default must be an integer/],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'o', type: 'choice' }] } } }), /params\[0\]\.choices must be a non-empty array/],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'o', type: 'int', choices: [1] }] } } }), /choices only applies to type "choice"/],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'a', type: 'int' }, { name: 'a', type: 'int' }] } } }), /"a" is declared twice/],
    [JSON.stringify({ profiles: { train: { command: ['x'], regex: '(?<loss' } } }), /profile "train": regex is not usable: Invalid metric regex/],
    [JSON.stringify({ profiles: { train: { command: ['x'], regex: 'loss=(\\S+)' } } }), /profile "train": regex is not usable: .*needs named groups/],
    [JSON.stringify({ profiles: { train: { command: ['x'], gates: ['accuracy is high'] } } }), /profile "train": gates\[0\] Cannot read the condition/],
    [JSON.stringify({ profiles: { train: { command: ['x'], sweep: { parallel: 2 } } } }), /profile "train": sweep needs "grid" or "random"/],
    [JSON.stringify({ profiles: { train: { command: ['x'], sweep: { grid: { lr: [0.1] } } } } }), /sweep\.grid\.lr names "lr", which is not in the profile's params/],
    [
      JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'lr', type: 'number' }], sweep: { random: { count: 2, params: { lr: { min: 0, max: 1, log: true } } } } } } }),
      /sweep\.random\.params\.lr with log: true needs min > 0/,
    ],
    [
      JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'o', type: 'string' }], sweep: { random: { count: 2, params: { o: { min: 0, max: 1 } } } } } } }),
      /is a range, but param "o" is string/,
    ],
    [JSON.stringify({ profiles: { train: { command: ['x'], params: [{ name: 'd', type: 'int' }], sweep: { grid: { d: [1, 'two'] } } } } }), /sweep\.grid\.d\[1\] must be an integer/],
    [JSON.stringify({ profiles: { train: { command: ['x'], sweep: { grid: {}, parallel: 0 } } } }), /sweep\.grid must map param names/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseProfiles(text), { name: 'UserError', message }, text);
});

test('profiles are found in the workspace, by name, with a clear error for an unknown one', () => {
  const ws = tempDir();
  assert.equal(loadProfiles(ws).size, 0, 'no file, no profiles');
  assert.throws(() => getProfile(ws, 'train'), /No profile "train": .* defines none/);
  mkdirSync(join(ws, '.runboard'));
  writeFileSync(join(ws, '.runboard', 'profiles.json'), JSON.stringify({ profiles: { train: { command: ['x'] }, eval: { command: ['y'] } } }));
  assert.deepEqual(getProfile(ws, 'eval').command, ['y']);
  assert.throws(() => getProfile(ws, 'trian'), /No profile "trian" in .*profiles\.json \(profiles: train, eval\)/);
  mkdirSync(join(ws, 'src', 'deep'), { recursive: true });
  assert.equal(findProfilesWorkspace(join(ws, 'src', 'deep'), '/fallback'), ws);
  assert.equal(findProfilesWorkspace(tempDir(), '/fallback'), '/fallback');
});

test('the JSON schema offers exactly the fields the validator accepts', () => {
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'profiles.schema.json'), 'utf8'));
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(Object.keys(schema.definitions.profile.properties).sort(), [...PROFILE_FIELDS].sort());
  assert.deepEqual(Object.keys(schema.definitions.param.properties).sort(), [...PARAM_FIELDS].sort());
  assert.deepEqual(schema.definitions.param.properties.type.enum, [...PARAM_TYPES]);
  assert.deepEqual(Object.keys(schema.definitions.sweep.properties).sort(), ['grid', 'parallel', 'random']);
});

test('one broken profile leaves the others usable and names itself; a broken file names the file', () => {
  const dir = tempDir();
  mkdirSync(join(dir, '.runboard'));
  const file = join(dir, '.runboard', 'profiles.json');
  writeFileSync(file, JSON.stringify({ profiles: { good: { command: ['python3', 'a.py'] }, bad: { command: ['python3', '${param:lrr}'] } } }));
  const report = readProfiles(dir);
  assert.deepEqual([...report.profiles.keys()], ['good']);
  assert.equal(report.problems.length, 1);
  assert.equal(report.problems[0]!.profile, 'bad');
  assert.match(report.problems[0]!.message, /profile "bad": command\[1\] uses \$\{param:lrr\}/);
  assert.equal(getProfile(dir, 'good').command[1], 'a.py');
  assert.equal(findProfile(dir, 'gone'), undefined);
  assert.throws(() => getProfile(dir, 'bad'), /param:lrr/);
  assert.throws(() => loadProfiles(dir), /param:lrr/, 'the strict reading still refuses the file');

  writeFileSync(file, '{ "profiles": ');
  const broken = readProfiles(dir);
  assert.equal(broken.profiles.size, 0);
  assert.equal(broken.problems[0]!.profile, undefined);
  assert.throws(() => getProfile(dir, 'good'), /not valid JSON/);
});

test('a profile for a script is added under a free name, once; a file that is not a profiles object is left alone', () => {
  const first = addScriptProfile(undefined, 'src/train.py');
  assert.equal(first.name, 'train');
  assert.deepEqual(parseProfiles(first.text).get('train')?.command, ['${interpreter}', 'src/train.py']);
  const second = addScriptProfile(first.text, 'other/train.py');
  assert.equal(second.name, 'train-2');
  assert.deepEqual([...parseProfiles(second.text).keys()], ['train', 'train-2']);
  const again = addScriptProfile(second.text, 'src/train.py');
  assert.deepEqual(again, { text: second.text, name: 'train', existed: true });
  assert.throws(() => addScriptProfile('{ "profiles": [] }', 'a.py'), /"profiles" must be an object/);
  assert.throws(() => addScriptProfile('{ "profiles": ', 'a.py'), /not valid JSON .*: fix it, then add the profile/);
});
