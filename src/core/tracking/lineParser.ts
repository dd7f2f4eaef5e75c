import { UserError } from '../errors.ts';
import type { MetricPoint } from '../store/types.ts';

/**
 * Recognises metrics in one line of a training process's output, with no change to its code.
 *
 * Formats, tried in this order:
 *  1. the user's regex, when given and it matches (named groups → metrics, or `key`/`value` groups);
 *  2. a line starting with `{`: a JSON object (`NaN`/`Infinity` allowed, as Python's json emits them)
 *     or a Python dict as Hugging Face Trainer prints it (`nan`, `inf`, `np.float64(0.5)`);
 *     nested objects are flattened with `/`;
 *  3. a line made only of `key=value` tokens (separated by spaces, commas or `|`);
 *  4. Keras' `loss: 0.23 - accuracy: 0.9`, optionally after a `N/N [====] - 1s 2ms/step` prefix.
 *
 * Malformed means "meant as metrics but unreadable": a line starting with `{` that is neither
 * JSON nor a Python literal (a truncated or interleaved record), a `key=value` line that yields
 * no number although some value looks like a garbled one (`loss=0.2.3`), a user-regex match
 * whose group is not a number, or a line longer than MAX_LINE_LENGTH. Anything else that yields
 * no metric is ordinary text.
 */

/** Longer lines are not parsed (and count as malformed): a binary blob must not stall capture. */
export const MAX_LINE_LENGTH = 64 * 1024;

export type LineKind = 'metrics' | 'text' | 'malformed';

export type ParsedLine =
  | { kind: 'metrics'; values: Map<string, number> }
  | { kind: 'text' }
  | { kind: 'malformed'; reason: string };

export interface LineParserOptions {
  /** A user pattern: named groups are metrics (`step` gives the step), or a `key` and a `value` group. */
  regex?: RegExp | string;
  /** Called the first time the reader produces a metric key. */
  onNewKey?: (key: string) => void;
}

const TEXT: ParsedLine = Object.freeze({ kind: 'text' });
const malformed = (reason: string): ParsedLine => ({ kind: 'malformed', reason });

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_NUMBERS: Record<string, number> = {
  nan: NaN,
  '-nan': NaN,
  '+nan': NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

/** A number as Python, JSON or a C printf writes it, including nan/inf spellings; else undefined. */
export function parseNumber(text: string): number | undefined {
  if (NUMBER.test(text)) return Number(text);
  const special = text.length <= 9 ? SPECIAL_NUMBERS[text.toLowerCase()] : undefined;
  return special;
}

/** A value that starts like a number but is not one (`0.2.3`, `1e`): a garbled metric. */
const looksNumeric = (text: string): boolean => /^[+-]?\.?\d/.test(text);

/**
 * Parses one line. Stateless: steps are assigned by a StepCounter (see LineReader). The step
 * keys stay in `values` so the counter can pick them out.
 */
export function parseLine(raw: string, regex?: CompiledRegex): ParsedLine {
  if (raw.length > MAX_LINE_LENGTH) return malformed('line too long');
  // The common case, a JSON record, skips the terminal clean-up (JSON.parse ignores `\r` around it).
  if (!regex && raw.charCodeAt(0) === 0x7b) {
    const parsed = parseObjectLine(raw);
    if (parsed.kind !== 'malformed') return parsed;
  }
  const line = visibleText(raw);
  if (regex) {
    const parsed = regex.parse(line);
    if (parsed) return parsed;
  }
  const first = line.charCodeAt(0);
  if (first === 0x7b /* { */) return parseObjectLine(line);
  if (line.includes('=')) {
    const parsed = parseKeyValueLine(line);
    if (parsed) return parsed;
  }
  if (line.includes(': ')) return parseKerasLine(line);
  return TEXT;
}

/**
 * What a terminal would show: the text after the last carriage return (progress bars redraw
 * with `\r`), without ANSI colour codes, trimmed.
 */
function visibleText(raw: string): string {
  let line = raw.trimEnd();
  const cr = line.lastIndexOf('\r');
  if (cr >= 0) line = line.slice(cr + 1);
  if (line.includes('\x1b')) line = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return line.trim();
}

// ── JSON objects and Python dicts ────────────────────────────────────────────

function parseObjectLine(line: string): ParsedLine {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    record = parseLiteral(line);
    if (record === undefined) return malformed('not a JSON object or Python dict');
  }
  if (!isRecord(record)) return malformed('not a JSON object or Python dict');
  const values = new Map<string, number>();
  collectNumbers(record, '', values, 0);
  return values.size > 0 ? { kind: 'metrics', values } : TEXT;
}

const MAX_NESTING = 8;

/** Numeric leaves of an object, nested keys joined with `/`; strings, booleans and lists are not metrics. */
export function collectNumbers(record: Record<string, unknown>, prefix: string, out: Map<string, number>, depth: number): void {
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'number') out.set(prefix + key, value);
    else if (isRecord(value) && depth < MAX_NESTING) collectNumbers(value, `${prefix}${key}/`, out, depth + 1);
  }
}

export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A Python value with no JSON equivalent (a set, an object's repr): kept out of the metrics. */
const OPAQUE: unique symbol = Symbol('opaque');
type Literal = number | string | boolean | null | typeof OPAQUE | Literal[] | { [key: string]: Literal };

/**
 * Reads a JSON value extended with Python's literal syntax: single-quoted strings, True/False/None,
 * nan/inf/NaN/Infinity, tuples, and wrappers such as `np.float64(0.5)` or `tensor(0.5, device='cuda:0')`
 * (their first argument). Returns undefined on a syntax error.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return parseLiteral(text);
  }
}

function parseLiteral(text: string): Literal | undefined {
  let pos = 0;
  const fail = (): never => {
    throw SYNTAX;
  };
  const skipSpace = () => {
    while (pos < text.length && text.charCodeAt(pos) <= 0x20) pos++;
  };
  const value = (depth: number): Literal => {
    if (depth > 64) fail();
    skipSpace();
    const ch = text[pos];
    if (ch === '{') return dict(depth);
    if (ch === '[') return sequence(']', depth);
    if (ch === '(') return sequence(')', depth);
    if (ch === '"' || ch === "'") return string(ch);
    return word(depth);
  };
  const dict = (depth: number): Literal => {
    pos++;
    const out: Record<string, Literal> = Object.create(null);
    let isSet = false;
    for (;;) {
      skipSpace();
      if (text[pos] === '}') return pos++, isSet ? OPAQUE : out;
      const key = value(depth + 1);
      skipSpace();
      if (text[pos] === ':') {
        pos++;
        const item = value(depth + 1);
        if (typeof key === 'string' || typeof key === 'number') out[String(key)] = item;
      } else {
        isSet = true;
      }
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== '}') fail();
    }
  };
  const sequence = (close: string, depth: number): Literal => {
    pos++;
    const out: Literal[] = [];
    for (;;) {
      skipSpace();
      if (text[pos] === close) return pos++, out;
      out.push(value(depth + 1));
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail();
    }
  };
  const string = (quote: string): string => {
    pos++;
    let out = '';
    for (;;) {
      const ch = text[pos++];
      if (ch === undefined) fail();
      if (ch === quote) return out;
      if (ch === '\\') {
        const escaped = text[pos++];
        if (escaped === undefined) fail();
        out += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
      } else {
        out += ch;
      }
    }
  };
  const word = (depth: number): Literal => {
    NUMBER_AT.lastIndex = pos;
    const number = NUMBER_AT.exec(text);
    if (number) {
      pos += number[0].length;
      return Number(number[0]);
    }
    NAME_AT.lastIndex = pos;
    const name = NAME_AT.exec(text);
    if (!name) fail();
    const token = name![0];
    pos += token.length;
    const special = parseNumber(token);
    if (special !== undefined) return special;
    if (token === 'True' || token === 'true') return true;
    if (token === 'False' || token === 'false') return false;
    if (token === 'None' || token === 'null') return null;
    skipSpace();
    const plainName = !token.startsWith('-') && !token.startsWith('+');
    // A keyword argument of a wrapper call (`device='cuda:0'`) stands for its value.
    if (text[pos] === '=' && plainName) return pos++, value(depth + 1);
    if (text[pos] === '(' && plainName) {
      const args = sequence(')', depth) as Literal[];
      return typeof args[0] === 'number' ? args[0] : OPAQUE;
    }
    return fail();
  };
  try {
    const result = value(0);
    skipSpace();
    if (pos !== text.length) fail();
    return result;
  } catch (err) {
    if (err === SYNTAX) return undefined;
    throw err;
  }
}
const SYNTAX = new Error('syntax');
const NUMBER_AT = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME_AT = /[+-]?[A-Za-z_][\w.]*/y;

// ── key=value ────────────────────────────────────────────────────────────────

const KV_TOKEN = /^([A-Za-z_][\w./-]*)=(\S+)$/;
const KV_SEPARATORS = /[\s,|]+/;

/** Undefined when the line is not made only of key=value tokens. */
function parseKeyValueLine(line: string): ParsedLine | undefined {
  const tokens = line.split(KV_SEPARATORS);
  const values = new Map<string, number>();
  let garbled = false;
  for (const token of tokens) {
    if (token === '') continue;
    const match = KV_TOKEN.exec(token);
    if (!match) return undefined;
    const number = parseNumber(match[2]!);
    if (number !== undefined) values.set(match[1]!, number);
    else if (looksNumeric(match[2]!)) garbled = true;
  }
  const metricCount = [...values.keys()].filter((key) => !STEP_KEYS.includes(key)).length;
  if (metricCount === 0) return garbled ? malformed('key=value line without a readable number') : TEXT;
  return { kind: 'metrics', values };
}

// ── Keras ────────────────────────────────────────────────────────────────────

const KERAS_METRIC = /^([A-Za-z_][\w./-]*): ?(\S+)$/;
const PROGRESS = /^(\d+)\/(\d+)\b/;

function parseKerasLine(line: string): ParsedLine {
  const progress = PROGRESS.exec(line);
  // An unfinished progress bar shows running averages over the epoch so far: only the last counts.
  if (progress && progress[1] !== progress[2]) return TEXT;
  const segments = line.split(' - ');
  const values = new Map<string, number>();
  for (let i = 0; i < segments.length; i++) {
    const match = KERAS_METRIC.exec(segments[i]!.trim());
    const number = match ? parseNumber(match[2]!) : undefined;
    if (number !== undefined) values.set(match![1]!, number);
    // Before the metrics only a progress prefix is allowed (`N/N [===]`, `1s 2ms/step`).
    else if (values.size === 0 && !progress) return TEXT;
  }
  return values.size > 0 ? { kind: 'metrics', values } : TEXT;
}

// ── user regex ───────────────────────────────────────────────────────────────

export interface CompiledRegex {
  /** Undefined when the line does not match, so the built-in formats get their turn. */
  parse(line: string): ParsedLine | undefined;
}

/** Validates a user pattern once. Throws UserError for a bad pattern or one without named groups. */
export function compileRegex(pattern: RegExp | string): CompiledRegex {
  let regex: RegExp;
  try {
    regex = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
  } catch (err) {
    throw new UserError(`Invalid metric regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  const groups = [...regex.source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
  if (groups.length === 0) {
    throw new UserError(`The metric regex ${regex} needs named groups, e.g. (?<loss>\\S+), or a (?<key>…) and a (?<value>…) group.`);
  }
  if (groups.includes('key') && groups.includes('value')) {
    const global = new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
    return {
      parse(line) {
        const values = new Map<string, number>();
        let matched = false;
        for (const m of line.matchAll(global)) {
          matched = true;
          const number = parseNumber(m.groups!.value ?? '');
          if (number === undefined) return malformed(`regex value "${m.groups!.value}" is not a number`);
          values.set(m.groups!.key!, number);
        }
        return matched ? { kind: 'metrics', values } : undefined;
      },
    };
  }
  const single = regex.flags.includes('g') || regex.flags.includes('y') ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')) : regex;
  return {
    parse(line) {
      const m = single.exec(line);
      if (!m) return undefined;
      const values = new Map<string, number>();
      for (const [name, text] of Object.entries(m.groups ?? {})) {
        if (text === undefined) continue;
        const number = parseNumber(text.trim());
        if (number === undefined) return malformed(`regex group ${name}="${text}" is not a number`);
        values.set(name, number);
      }
      return values.size > 0 ? { kind: 'metrics', values } : TEXT;
    },
  };
}

// ── steps ────────────────────────────────────────────────────────────────────

/** Keys that give a record's step and are never stored as metrics, in order of preference. */
export const STEP_KEYS: readonly string[] = ['step', 'global_step', 'iteration'];

/**
 * Assigns steps to the values of successive records of one stream.
 *
 * A record's step is its first integer `step`, `global_step` or `iteration`; failing those, its
 * `epoch` when integer, unless this stream has already shown a fractional epoch (Hugging Face logs
 * `epoch: 0.5`, so its epochs are a progress measure, not a step). Otherwise each key gets its own
 * counter: the n-th value of a key is step n. Counters always move past steps used, so mixing
 * explicit and counted steps never lands two values on one step. `epoch` stays a metric (users
 * chart it); the step keys do not.
 */
export class StepCounter {
  private readonly next = new Map<string, number>();
  private fractionalEpochSeen = false;
  private readonly onNewKey: ((key: string) => void) | undefined;

  constructor(onNewKey?: (key: string) => void) {
    this.onNewKey = onNewKey;
  }

  /** Appends one point per metric to `out`; returns how many. */
  points(values: Map<string, number>, wall: number, out: MetricPoint[]): number {
    let step: number | undefined;
    for (const key of STEP_KEYS) {
      const candidate = values.get(key);
      if (candidate !== undefined && Number.isSafeInteger(candidate)) {
        step = candidate;
        break;
      }
    }
    const epoch = values.get('epoch');
    if (epoch !== undefined && !Number.isInteger(epoch)) this.fractionalEpochSeen = true;
    if (step === undefined && epoch !== undefined && !this.fractionalEpochSeen && Number.isSafeInteger(epoch)) step = epoch;
    let count = 0;
    for (const [key, value] of values) {
      if (STEP_KEYS.includes(key)) continue;
      let next = this.next.get(key);
      if (next === undefined) {
        next = 0;
        this.onNewKey?.(key);
      }
      const pointStep = step ?? next;
      if (pointStep >= next) this.next.set(key, pointStep + 1);
      out.push({ key, step: pointStep, value, wall });
      count++;
    }
    return count;
  }
}

/** Parses the lines of one stream (or of several sharing a step space, like stdout and stderr). */
export class LineReader {
  private readonly steps: StepCounter;
  private readonly regex: CompiledRegex | undefined;

  constructor(options: LineParserOptions = {}) {
    this.steps = new StepCounter(options.onNewKey);
    this.regex = options.regex === undefined ? undefined : compileRegex(options.regex);
  }

  /** Appends the line's points to `out`. A line whose values are all step keys is text. */
  read(line: string, wall: number, out: MetricPoint[]): LineKind {
    const parsed = parseLine(line, this.regex);
    if (parsed.kind !== 'metrics') return parsed.kind;
    return this.steps.points(parsed.values, wall, out) > 0 ? 'metrics' : 'text';
  }
}
