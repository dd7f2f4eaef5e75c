import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { parseGate } from '../gates.ts';
import { compileRegex, SWITCHABLE_READERS, type ReaderSwitches } from '../tracking/lineParser.ts';

export type ParamValue = string | number | boolean;

export const PARAM_TYPES = ['number', 'int', 'string', 'bool', 'choice'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  name: string;
  type: ParamType;
  default?: ParamValue;
  description?: string;
  choices?: ParamValue[];
}

/** A continuous range for random search; `log` samples uniformly in log space (min > 0). */
export interface RandomRange {
  min: number;
  max: number;
  log: boolean;
}

export type RandomDomain = RandomRange | ParamValue[];

export interface SweepConfig {
  grid?: Record<string, ParamValue[]>;
  random?: { count: number; params: Record<string, RandomDomain> };
  parallel?: number;
}

export interface Profile {
  name: string;
  /** argv with `${param:NAME}`, `${interpreter}`, `${workspaceFolder}` placeholders; never a shell line. */
  command: string[];
  cwd?: string;
  env: Record<string, string>;
  params: ParamSpec[];
  inputs: string[];
  /** The run's output folder; may use `${runId}`. Default `.runboard/runs/<run-id>/`. */
  outputs?: string;
  /** Undefined when the profile names none, so a caller can supply its own (default python3). */
  interpreter?: string;
  regex?: string;
  /** Capture's built-in line readers switched off, e.g. `{ "pairs": false }`. */
  readers?: ReaderSwitches;
  /** False leaves the user's own MLFLOW_* variables alone instead of pointing MLflow's client at the run. */
  mlflow?: boolean;
  gates: string[];
  sweep?: SweepConfig;
  experiment?: string;
  description?: string;
}

/** A profile with its params filled in: everything a launch needs, paths absolute. */
export interface ExpandedProfile {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  inputs: string[];
  /** Absolute; `${runId}` is still to be replaced by the launcher. */
  outputs?: string;
  interpreter: string;
  params: Record<string, ParamValue>;
}

export const PROFILES_FILE = join('.runboard', 'profiles.json');
export const DEFAULT_INTERPRETER = 'python3';

export const PROFILE_FIELDS = ['command', 'cwd', 'env', 'params', 'inputs', 'outputs', 'interpreter', 'regex', 'readers', 'mlflow', 'gates', 'sweep', 'experiment', 'description'];
export const PARAM_FIELDS = ['name', 'type', 'default', 'description', 'choices'];
const PARAM_NAME = /^[A-Za-z_][\w.-]*$/;
const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

export const profilesPath = (workspace: string): string => join(workspace, PROFILES_FILE);

/** The workspace whose profiles apply: the nearest folder at or above `cwd` with a profiles file, else `fallback`. */
export function findProfilesWorkspace(cwd: string, fallback: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(profilesPath(dir))) return dir;
    if (dirname(dir) === dir) return fallback;
  }
}

/** A profile that failed validation (`profile` unset: the file itself is unreadable or malformed). */
export interface ProfileProblem {
  profile?: string;
  message: string;
}

/** The valid profiles of a file, and a problem for each broken one. */
export interface ProfilesReport {
  profiles: Map<string, Profile>;
  problems: ProfileProblem[];
}

/**
 * Every valid profile of a workspace and what is wrong with the others: one broken profile never
 * hides the rest. None when the file does not exist.
 */
export function readProfiles(workspace: string): ProfilesReport {
  const file = profilesPath(workspace);
  if (!existsSync(file)) return { profiles: new Map(), problems: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { profiles: new Map(), problems: [{ message: `${PROFILES_FILE}: cannot read it: ${(err as Error).message}` }] };
  }
  return reportProfiles(text);
}

/** Every profile of a workspace; none when the file does not exist. Throws UserError for any broken profile. */
export function loadProfiles(workspace: string): Map<string, Profile> {
  return strictly(readProfiles(workspace));
}

/** A profile, or undefined when the file does not define it; throws when it (or the file) is broken. */
export function findProfile(workspace: string, name: string): Profile | undefined {
  const { profiles, problems } = readProfiles(workspace);
  const problem = problems.find((p) => p.profile === name || p.profile === undefined);
  if (problem) throw new UserError(problem.message);
  return profiles.get(name);
}

/** One profile; a problem elsewhere in the file does not stop it. */
export function getProfile(workspace: string, name: string): Profile {
  const profile = findProfile(workspace, name);
  if (profile) return profile;
  const { profiles } = readProfiles(workspace);
  if (profiles.size === 0) {
    throw new UserError(`No profile "${name}": ${profilesPath(workspace)} defines none. Add one under "profiles".`);
  }
  throw new UserError(`No profile "${name}" in ${PROFILES_FILE} (profiles: ${[...profiles.keys()].join(', ')})`);
}

/** Where a profile's key is written in the text of profiles.json (after `"profiles"`), for editors to point at. */
export function profileKeyOffset(text: string, name: string): number | undefined {
  const profilesKey = text.indexOf('"profiles"');
  if (profilesKey < 0) return undefined;
  const key = new RegExp(`${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`, 'g');
  key.lastIndex = profilesKey + '"profiles"'.length;
  const found = key.exec(text);
  return found ? found.index : undefined;
}

/** Parses and strictly validates the text of profiles.json; every problem names the profile and the field. */
export function parseProfiles(text: string): Map<string, Profile> {
  return strictly(reportProfiles(text));
}

function strictly({ profiles, problems }: ProfilesReport): Map<string, Profile> {
  if (problems.length) throw new UserError(problems[0]!.message);
  return profiles;
}

/** Validates each profile on its own, so the valid ones stay usable beside a broken one. */
export function reportProfiles(text: string): ProfilesReport {
  const profiles = new Map<string, Profile>();
  const problems: ProfileProblem[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { profiles, problems: [{ message: `${PROFILES_FILE} is not valid JSON: ${(err as Error).message}` }] };
  }
  const fileProblem = (message: string): ProfilesReport => ({ profiles, problems: [{ message }] });
  if (!isObject(json)) return fileProblem(`${PROFILES_FILE} must hold an object like { "profiles": { "train": { "command": [...] } } }`);
  const unknown = Object.keys(json).filter((k) => k !== 'profiles' && k !== '$schema');
  if (unknown.length) return fileProblem(`${PROFILES_FILE}: unknown field "${unknown[0]}" (expected "profiles")`);
  if (json.profiles === undefined) return { profiles, problems };
  if (!isObject(json.profiles)) return fileProblem(`${PROFILES_FILE}: "profiles" must be an object mapping names to profiles`);
  for (const [name, raw] of Object.entries(json.profiles)) {
    try {
      profiles.set(name, validateProfile(name, raw));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push({ profile: name, message: err.message });
    }
  }
  return { profiles, problems };
}

function validateProfile(name: string, raw: unknown): Profile {
  const fail = (field: string, problem: string): never => {
    throw new UserError(`${PROFILES_FILE}: profile "${name}": ${field} ${problem}`);
  };
  if (!name.trim()) throw new UserError(`${PROFILES_FILE}: a profile name cannot be empty`);
  if (!isObject(raw)) return fail('', 'must be an object with at least "command"');
  for (const key of Object.keys(raw)) {
    if (!PROFILE_FIELDS.includes(key)) fail(`field "${key}"`, `is unknown (fields: ${PROFILE_FIELDS.join(', ')})`);
  }

  if (!Array.isArray(raw.command) || raw.command.length === 0) fail('command', 'must be a non-empty array of strings (argv, no shell)');
  const command = (raw.command as unknown[]).map((arg, i) => (typeof arg === 'string' ? arg : fail(`command[${i}]`, 'must be a string')));
  if (!command[0]!.trim()) fail('command[0]', 'must name a program');

  const optionalString = (field: string): string | undefined => {
    const value = raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !value.trim()) return fail(field, 'must be a non-empty string');
    return value;
  };
  const stringList = (field: string): string[] => {
    const value = raw[field];
    if (value === undefined) return [];
    if (!Array.isArray(value)) return fail(field, 'must be an array of strings');
    return value.map((item, i) => (typeof item === 'string' && item.trim() ? item : fail(`${field}[${i}]`, 'must be a non-empty string')));
  };

  const env: Record<string, string> = {};
  if (raw.env !== undefined) {
    if (!isObject(raw.env)) fail('env', 'must be an object of strings');
    for (const [key, value] of Object.entries(raw.env as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(`env.${key}`, 'must be a string');
      env[key] = value as string;
    }
  }

  const params: ParamSpec[] = [];
  if (raw.params !== undefined) {
    if (!Array.isArray(raw.params)) fail('params', 'must be an array of { name, type, default?, description?, choices? }');
    (raw.params as unknown[]).forEach((p, i) => params.push(validateParam(p, `params[${i}]`, params, fail)));
  }
  const paramByName = new Map(params.map((p) => [p.name, p]));

  const regex = optionalString('regex');
  if (regex !== undefined) {
    try {
      compileRegex(regex);
    } catch (err) {
      fail('regex', `is not usable: ${(err as Error).message}`);
    }
  }
  let readers: ReaderSwitches | undefined;
  if (raw.readers !== undefined) {
    if (!isObject(raw.readers)) fail('readers', `must be an object like { "pairs": false } (readers: ${SWITCHABLE_READERS.join(', ')})`);
    readers = {};
    for (const [reader, on] of Object.entries(raw.readers as Record<string, unknown>)) {
      if (!(SWITCHABLE_READERS as readonly string[]).includes(reader)) fail(`readers.${reader}`, `is not a reader (readers: ${SWITCHABLE_READERS.join(', ')})`);
      if (typeof on !== 'boolean') fail(`readers.${reader}`, 'must be true or false');
      readers[reader as keyof ReaderSwitches] = on as boolean;
    }
  }
  if (raw.mlflow !== undefined && typeof raw.mlflow !== 'boolean') fail('mlflow', 'must be true or false (false leaves your own MLFLOW_TRACKING_URI alone)');
  const gates = stringList('gates');
  gates.forEach((gate, i) => {
    try {
      parseGate(gate);
    } catch (err) {
      fail(`gates[${i}]`, (err as Error).message);
    }
  });

  const profile: Profile = {
    name,
    command,
    cwd: optionalString('cwd'),
    env,
    params,
    inputs: stringList('inputs'),
    outputs: optionalString('outputs'),
    interpreter: optionalString('interpreter'),
    regex,
    readers,
    mlflow: raw.mlflow as boolean | undefined,
    gates,
    experiment: optionalString('experiment'),
    description: optionalString('description'),
  };
  if (raw.sweep !== undefined) profile.sweep = validateSweep(raw.sweep, paramByName, profile, fail);

  // Placeholders are checked now, so a typo fails when the file is read, not mid-sweep.
  const check = (text: string, field: string, allowRunId = false) => {
    for (const [, escaped, inner] of text.matchAll(PLACEHOLDER)) {
      if (escaped) continue;
      const param = /^param:(.+)$/.exec(inner!);
      if (param) {
        if (!paramByName.has(param[1]!)) fail(field, `uses \${param:${param[1]}} but "params" declares no "${param[1]}"`);
      } else if (inner === 'runId' ? !allowRunId : inner !== 'interpreter' && inner !== 'workspaceFolder') {
        fail(field, `has an unknown placeholder \${${inner}} (known: \${param:NAME}, \${interpreter}, \${workspaceFolder}${allowRunId ? ', ${runId}' : ''})`);
      }
    }
  };
  command.forEach((arg, i) => check(arg, `command[${i}]`));
  if (profile.cwd) check(profile.cwd, 'cwd');
  for (const [key, value] of Object.entries(env)) check(value, `env.${key}`);
  profile.inputs.forEach((input, i) => check(input, `inputs[${i}]`));
  if (profile.outputs) check(profile.outputs, 'outputs', true);
  return profile;
}

function validateParam(raw: unknown, field: string, earlier: ParamSpec[], fail: (field: string, problem: string) => never): ParamSpec {
  if (!isObject(raw)) return fail(field, 'must be an object { name, type, default?, description?, choices? }');
  for (const key of Object.keys(raw)) {
    if (!PARAM_FIELDS.includes(key)) fail(`${field}.${key}`, `is unknown (fields: ${PARAM_FIELDS.join(', ')})`);
  }
  if (typeof raw.name !== 'string' || !PARAM_NAME.test(raw.name)) fail(`${field}.name`, 'must be a name like lr, n_layers or model.depth');
  const name = raw.name as string;
  if (earlier.some((p) => p.name === name)) fail(`${field}.name`, `"${name}" is declared twice`);
  if (!PARAM_TYPES.includes(raw.type as ParamType)) fail(`${field}.type`, `must be one of ${PARAM_TYPES.join(', ')}`);
  const spec: ParamSpec = { name, type: raw.type as ParamType };
  if (raw.description !== undefined) {
    if (typeof raw.description !== 'string') fail(`${field}.description`, 'must be a string');
    spec.description = raw.description as string;
  }
  if (spec.type === 'choice') {
    if (!Array.isArray(raw.choices) || raw.choices.length === 0) fail(`${field}.choices`, 'must be a non-empty array (type is choice)');
    spec.choices = (raw.choices as unknown[]).map((c, i) =>
      typeof c === 'string' || typeof c === 'boolean' || (typeof c === 'number' && Number.isFinite(c)) ? c : fail(`${field}.choices[${i}]`, 'must be a string, number or boolean'),
    );
  } else if (raw.choices !== undefined) {
    fail(`${field}.choices`, `only applies to type "choice" (this param is "${spec.type}")`);
  }
  if (raw.default !== undefined) spec.default = checkJsonValue(spec, raw.default, `${field}.default`, fail);
  return spec;
}

function validateSweep(
  raw: unknown,
  params: Map<string, ParamSpec>,
  profile: Profile,
  fail: (field: string, problem: string) => never,
): SweepConfig {
  if (!isObject(raw)) return fail('sweep', 'must be an object { grid?, random?, parallel? }');
  for (const key of Object.keys(raw)) {
    if (!['grid', 'random', 'parallel'].includes(key)) fail(`sweep.${key}`, 'is unknown (fields: grid, random, parallel)');
  }
  const paramOf = (name: string, field: string): ParamSpec =>
    params.get(name) ?? fail(field, `names "${name}", which is not in the profile's params (${[...params.keys()].join(', ') || 'none'})`);
  const valueList = (value: unknown, spec: ParamSpec, field: string): ParamValue[] => {
    if (!Array.isArray(value) || value.length === 0) return fail(field, 'must be a non-empty array of values');
    return value.map((v, i) => checkJsonValue(spec, v, `${field}[${i}]`, fail));
  };
  const sweep: SweepConfig = {};
  if (raw.grid !== undefined) {
    if (!isObject(raw.grid) || Object.keys(raw.grid).length === 0) fail('sweep.grid', 'must map param names to arrays of values');
    sweep.grid = {};
    for (const [name, values] of Object.entries(raw.grid as Record<string, unknown>)) {
      sweep.grid[name] = valueList(values, paramOf(name, `sweep.grid.${name}`), `sweep.grid.${name}`);
    }
  }
  if (raw.random !== undefined) {
    const random = raw.random;
    if (!isObject(random)) return fail('sweep.random', 'must be an object { count, params }');
    for (const key of Object.keys(random)) if (key !== 'count' && key !== 'params') fail(`sweep.random.${key}`, 'is unknown (fields: count, params)');
    if (!isPositiveInt(random.count)) fail('sweep.random.count', 'must be a positive integer');
    if (!isObject(random.params) || Object.keys(random.params).length === 0) fail('sweep.random.params', 'must map param names to {min, max, log?} or arrays of values');
    const domains: Record<string, RandomDomain> = {};
    for (const [name, domain] of Object.entries(random.params as Record<string, unknown>)) {
      const field = `sweep.random.params.${name}`;
      const spec = paramOf(name, field);
      if (sweep.grid?.[name]) fail(field, 'is also in sweep.grid: a param is either on the grid or sampled');
      domains[name] = Array.isArray(domain) ? valueList(domain, spec, field) : checkRange(domain, spec, field, fail);
    }
    sweep.random = { count: random.count as number, params: domains };
  }
  if (raw.parallel !== undefined) {
    if (!isPositiveInt(raw.parallel)) fail('sweep.parallel', 'must be a positive integer');
    sweep.parallel = raw.parallel as number;
  }
  if (!sweep.grid && !sweep.random) fail('sweep', `needs "grid" or "random" (profile "${profile.name}")`);
  return sweep;
}

function checkRange(raw: unknown, spec: ParamSpec, field: string, fail: (field: string, problem: string) => never): RandomRange {
  if (!isObject(raw)) return fail(field, 'must be {min, max, log?} or an array of values');
  for (const key of Object.keys(raw)) if (!['min', 'max', 'log'].includes(key)) fail(`${field}.${key}`, 'is unknown (fields: min, max, log)');
  if (spec.type !== 'number' && spec.type !== 'int') fail(field, `is a range, but param "${spec.name}" is ${spec.type}: give an array of values`);
  const { min, max, log } = raw;
  if (typeof min !== 'number' || !Number.isFinite(min)) return fail(`${field}.min`, 'must be a number');
  if (typeof max !== 'number' || !Number.isFinite(max)) return fail(`${field}.max`, 'must be a number');
  if (!(min < max)) fail(field, `needs min < max (got ${min} and ${max})`);
  if (log !== undefined && typeof log !== 'boolean') fail(`${field}.log`, 'must be true or false');
  if (log && min <= 0) fail(field, 'with log: true needs min > 0');
  if (spec.type === 'int' && (!Number.isInteger(min) || !Number.isInteger(max))) fail(field, `needs integer min and max (param "${spec.name}" is int)`);
  return { min, max, log: log === true };
}

/** A value written in JSON must already have the param's JSON type (no "0.1" for a number). */
function checkJsonValue(spec: ParamSpec, value: unknown, field: string, fail: (field: string, problem: string) => never): ParamValue {
  const problem = typeProblem(spec, value);
  return problem === undefined ? (value as ParamValue) : fail(field, problem);
}

function typeProblem(spec: ParamSpec, value: unknown, asTyped: unknown = value): string | undefined {
  const shown = JSON.stringify(asTyped);
  switch (spec.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `must be a number (param "${spec.name}" is number), not ${shown}`;
    case 'int':
      return Number.isSafeInteger(value) ? undefined : `must be an integer (param "${spec.name}" is int), not ${shown}`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `must be true or false (param "${spec.name}" is bool), not ${shown}`;
    case 'string':
      return typeof value === 'string' ? undefined : `must be a string (param "${spec.name}" is string), not ${shown}`;
    case 'choice':
      return spec.choices!.some((c) => c === value)
        ? undefined
        : `must be one of ${spec.choices!.map((c) => JSON.stringify(c)).join(', ')} (param "${spec.name}"), not ${shown}`;
    default: {
      const never: never = spec.type;
      return `has an unknown type ${String(never)}`;
    }
  }
}

/**
 * A param value typed on a command line (`--param lr=1e-3`, `--grid depth=3,5`) as the param's
 * type. Values that already have a JSON type are checked as they are.
 */
export function parseParamValue(profile: Profile, name: string, raw: ParamValue, where: string): ParamValue {
  const spec = profile.params.find((p) => p.name === name);
  if (!spec) {
    const known = profile.params.map((p) => p.name).join(', ');
    throw new UserError(`${where}: profile "${profile.name}" has no param "${name}" (${known ? `its params: ${known}` : 'it declares no params'})`);
  }
  const value = typeof raw === 'string' ? fromText(spec, raw) : raw;
  const problem = typeProblem(spec, value, raw);
  if (problem !== undefined) throw new UserError(`${where}: ${name} ${problem}`);
  return value as ParamValue;
}

function fromText(spec: ParamSpec, text: string): unknown {
  const trimmed = text.trim();
  switch (spec.type) {
    case 'number':
      return trimmed === '' ? text : Number(trimmed);
    case 'int':
      return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : text;
    case 'bool':
      if (/^(true|1|yes)$/i.test(trimmed)) return true;
      if (/^(false|0|no)$/i.test(trimmed)) return false;
      return text;
    case 'choice':
      return spec.choices!.find((c) => String(c) === trimmed) ?? text;
    case 'string':
      return text;
    default:
      return text;
  }
}

/** Defaults overlaid with overrides, each checked against its type; every declared param must end up with a value. */
export function resolveParams(profile: Profile, overrides: Record<string, ParamValue> = {}, where = '--param'): Record<string, ParamValue> {
  const values: Record<string, ParamValue> = {};
  for (const spec of profile.params) if (spec.default !== undefined) values[spec.name] = spec.default;
  for (const [name, raw] of Object.entries(overrides)) values[name] = parseParamValue(profile, name, raw, `${where} ${name}=${String(raw)}`);
  const missing = profile.params.filter((p) => values[p.name] === undefined).map((p) => p.name);
  if (missing.length) {
    throw new UserError(`profile "${profile.name}" needs a value for ${missing.join(', ')} (no default): pass ${missing.map((m) => `--param ${m}=…`).join(' ')}`);
  }
  return values;
}

/**
 * Fills a profile's placeholders with param values. Each argv element is substituted on its own,
 * so a value with spaces or quotes stays one argument: no shell ever reads it.
 */
export function expandProfile(
  profile: Profile,
  params: Record<string, ParamValue>,
  options: { workspace: string; interpreter?: string },
): ExpandedProfile {
  const workspace = resolve(options.workspace);
  const interpreter = resolveInterpreter(options.interpreter ?? profile.interpreter ?? DEFAULT_INTERPRETER, workspace);
  const fill = (text: string): string =>
    text.replace(PLACEHOLDER, (whole, escaped: string, inner: string) => {
      if (escaped) return whole.slice(1);
      if (inner === 'interpreter') return interpreter;
      if (inner === 'workspaceFolder') return workspace;
      if (inner === 'runId') return whole;
      const value = params[inner.slice('param:'.length)];
      if (value === undefined) throw new UserError(`profile "${profile.name}": no value for ${whole}`);
      return String(value);
    });
  return {
    command: profile.command.map(fill),
    cwd: resolve(workspace, fill(profile.cwd ?? '.')),
    env: Object.fromEntries(Object.entries(profile.env).map(([k, v]) => [k, fill(v)])),
    inputs: profile.inputs.map((input) => resolve(workspace, fill(input))),
    outputs: profile.outputs === undefined ? undefined : resolve(workspace, fill(profile.outputs)),
    interpreter,
    params,
  };
}

/** `.venv/bin/python` in a profile means the workspace's venv, whatever the run's cwd. */
function resolveInterpreter(interpreter: string, workspace: string): string {
  return !isAbsolute(interpreter) && /[\\/]/.test(interpreter) ? resolve(workspace, interpreter) : interpreter;
}

/** The run folder for a profile's `outputs` once the run has an id. */
export const outputsFor = (outputs: string, runId: number): string => outputs.replaceAll('${runId}', String(runId));

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isPositiveInt = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) > 0;

/** The result of adding a profile for a script: the new text, and the profile's name. */
export interface ProfileAddition {
  text: string;
  name: string;
  /** True when a profile already ran the script, so nothing was added. */
  existed: boolean;
}

/**
 * profiles.json with a profile that runs `script` (relative to the workspace) added, named after
 * it (`train`, else `train-2`, …); the same text when a profile already runs it. Throws the
 * file's own problem when it is not a profiles object, rather than rewriting it.
 */
export function addScriptProfile(text: string | undefined, script: string): ProfileAddition {
  let json: { profiles?: Record<string, unknown>; [key: string]: unknown };
  try {
    json = text === undefined || !text.trim() ? {} : JSON.parse(text);
  } catch (err) {
    throw new UserError(`${PROFILES_FILE} is not valid JSON (${(err as Error).message}): fix it, then add the profile`);
  }
  if (!isObject(json) || (json.profiles !== undefined && !isObject(json.profiles))) {
    throw new UserError(`${PROFILES_FILE}: "profiles" must be an object mapping names to profiles`);
  }
  const profiles = (json.profiles ??= {});
  for (const [name, profile] of Object.entries(profiles)) {
    if (isObject(profile) && Array.isArray(profile.command) && profile.command.includes(script)) return { text: text!, name, existed: true };
  }
  const base = script.replace(/^.*[\\/]/, '').replace(/\.py$/, '').replace(/[^\w.-]+/g, '-') || 'script';
  let name = base;
  for (let n = 2; name in profiles; n++) name = `${base}-${n}`;
  profiles[name] = { description: `Run ${script}`, command: ['${interpreter}', script] };
  return { text: `${JSON.stringify(json, null, 2)}\n`, name, existed: false };
}
