import { setFlagsFromString } from 'node:v8';
import { UserError } from '../errors.ts';
import type { MetricPoint } from '../store/types.ts';
import { isReleasedDrawing, visibleText } from './progressBars.ts';
import { TableReader } from './tableReader.ts';
import { GARBLED, readPrefix, readTextLine } from './textReader.ts';

/**
 * Recognises metrics in one line of a training process's output, with no change to its code.
 *
 * Readers, tried in this order (each can be switched off in a launch profile, see ReaderSwitches):
 *  1. `regex`: the user's regex, when given and it matches (named groups → metrics, or `key`/`value` groups);
 *  2. `json`: a JSON object (`NaN`/`Infinity` allowed, as Python's json emits them) or a Python dict
 *     as Hugging Face Trainer prints it (`nan`, `inf`, `np.float64(0.5)`), nested objects flattened
 *     with `/`; also after a prefix that gives the step (`epoch 0: {'accuracy': 0.8}`);
 *  3. `progress`: a progress bar's postfix or trailing pairs (tqdm, rich, Keras), once complete or
 *     as its last drawing (see progressBars.ts);
 *  4. `pairs`: `name <sep> number` pairs in free text (see textReader.ts);
 *  5. `table`: rows under a header line (see tableReader.ts).
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

export type ReaderName = 'regex' | 'json' | 'progress' | 'pairs' | 'table';
/** The built-in readers a launch profile can switch off: `"readers": {"pairs": false}`. */
export const SWITCHABLE_READERS = ['json', 'progress', 'pairs', 'table'] as const;
export type ReaderSwitches = Partial<Record<(typeof SWITCHABLE_READERS)[number], boolean>>;

export type ParsedLine =
  /** `step`: the step the line states in words (`Epoch [1/10], Step [100/600]`), not as a key. */
  | { kind: 'metrics'; values: Map<string, number>; reader: ReaderName; step?: number }
  | { kind: 'text' }
  | { kind: 'malformed'; reason: string };

export interface LineParserOptions {
  /** A user pattern: named groups are metrics (`step` gives the step), or a `key` and a `value` group. */
  regex?: RegExp | string;
  /** Built-in readers switched off (all are on by default). */
  readers?: ReaderSwitches;
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


/**
 * Parses one line. Stateless: steps are assigned by a StepCounter (see LineReader). The step
 * keys of a JSON object stay in `values` so the counter can pick them out.
 */
export function parseLine(raw: string, regex?: CompiledRegex, readers: ReaderSwitches = {}): ParsedLine {
  if (raw.length > MAX_LINE_LENGTH) return malformed('line too long');
  const json = readers.json !== false;
  // The common case, a JSON record, skips the terminal clean-up (JSON.parse ignores `\r` around it).
  if (!regex && json && raw.charCodeAt(0) === 0x7b) {
    const parsed = parseObjectLine(raw);
    if (parsed.kind !== 'malformed') return parsed;
  }
  const line = visibleText(raw);
  if (regex) {
    const parsed = regex.parse(line);
    if (parsed) return parsed;
  }
  if (line.charCodeAt(0) === 0x7b) return json ? parseObjectLine(line) : TEXT;
  if (json && line.endsWith('}')) {
    const prefixed = parsePrefixedObject(line);
    if (prefixed) return prefixed;
  }
  const text = readTextLine(line, isReleasedDrawing(raw), { pairs: readers.pairs !== false, progress: readers.progress !== false });
  if (text === GARBLED) return malformed('key=value line without a readable number');
  return text ? { kind: 'metrics', ...text } : TEXT;
}

// ── JSON objects and Python dicts ────────────────────────────────────────────

function parseObjectLine(line: string): ParsedLine {
  // The first line of a pretty-printed object (a config dump) is not a broken record.
  if (line.length <= 2 && line.trim() === '{') return TEXT;
  // A Python dict (`{'loss': …}`) is never JSON: going straight to the literal reader spares a thrown SyntaxError.
  const record = line.charCodeAt(1) === 0x27 ? parseLiteral(line) : parseLenientJson(line);
  if (!isRecord(record)) return malformed('not a JSON object or Python dict');
  const values = new Map<string, number>();
  collectNumbers(record, '', values, 0);
  return values.size > 0 ? { kind: 'metrics', values, reader: 'json' } : TEXT;
}

/** `epoch 0: {'accuracy': 0.8, 'f1': 0.85}` (Accelerate's examples): an object after a prefix giving the step. */
function parsePrefixedObject(line: string): ParsedLine | undefined {
  const open = line.indexOf('{');
  if (open < 0) return undefined;
  const parsed = parseObjectLine(line.slice(open));
  if (parsed.kind !== 'metrics') return undefined;
  const step = readPrefix(line.slice(0, open));
  return step === undefined ? undefined : { ...parsed, step };
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

// ── user regex ───────────────────────────────────────────────────────────────

export interface CompiledRegex {
  /** Undefined when the line does not match, so the built-in formats get their turn. */
  parse(line: string): ParsedLine | undefined;
}

/**
 * Longer lines are not offered to a user pattern (the built-in readers still read them): JS
 * regexes cannot be interrupted, so this caps what an accepted but quadratic pattern (say
 * `^(?<loss>\d+)\d*x`, 3 ms here) can cost per line, while metric lines are far shorter.
 */
export const MAX_REGEX_LINE_LENGTH = 1024;

/** How many times a quantifier at `i` lets its atom repeat, or undefined when none is there. */
function quantifierAt(source: string, i: number): { length: number; varies: boolean; repeats: boolean } | undefined {
  const c = source[i];
  if (c === '*' || c === '+') return { length: 1, varies: true, repeats: true };
  if (c === '?') return { length: 1, varies: false, repeats: false };
  const braces = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
  if (!braces) return undefined;
  const min = Number(braces[1]);
  const max = braces[2] === undefined ? min : braces[3] === '' ? Infinity : Number(braces[3]);
  return { length: braces[0].length, varies: max > min && max > 1, repeats: max > 1 };
}

/**
 * The first repeated group holding a quantifier that varies (`(\d+)+`, `(a*){2,}`), or undefined.
 * Such nesting makes a failing match backtrack through exponentially many ways to split the line
 * (`^(?<loss>(\d+)+)$` took 2.7 s on 25 characters), so it is refused where the profile is read.
 */
export function nestedQuantifier(source: string): string | undefined {
  // Per open group: whether something inside it repeats a varying number of times.
  const varies: boolean[] = [false];
  const starts: number[] = [];
  for (let i = 0; i < source.length; ) {
    let atomVaries = false;
    const c = source[i];
    if (c === '\\') {
      i += 2;
    } else if (c === '[') {
      i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      varies.push(false);
      starts.push(i);
      i++;
      // `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`: the prefix is not an atom to quantify.
      if (source[i] === '?') {
        i++;
        if (source[i] === '<' && source[i + 1] !== '=' && source[i + 1] !== '!') i = source.indexOf('>', i) + 1;
        else i += source[i] === '<' ? 2 : 1;
      }
      continue;
    } else if (c === ')') {
      atomVaries = varies.pop() ?? false;
      const groupStart = starts.pop() ?? 0;
      i++;
      const q = quantifierAt(source, i);
      if (atomVaries && q?.repeats) return source.slice(groupStart, i + q.length);
    } else {
      i++;
    }
    const q = quantifierAt(source, i);
    if (q) i += q.length + (source[i + q.length] === '?' ? 1 : 0);
    if (atomVaries || q?.varies) varies[varies.length - 1] = true;
  }
  return undefined;
}

/**
 * Validates a user pattern once. Throws UserError for a bad pattern, one without named groups, or
 * one whose nested quantifiers can stall capture.
 */
let backtrackingBounded = false;

/**
 * JavaScript has no regex timeout, and a pattern such as `(\d+)\d*\d*x` takes minutes on one
 * long line without nesting any quantifier. V8 can switch a regex that backtracks too much to its
 * linear-time engine, which gives the same matches for the patterns it supports (`l` compiles
 * only those, hence the check in compileRegex). Process-wide, but it changes nothing for a regex
 * that does not run away.
 */
function boundBacktracking(): void {
  if (backtrackingBounded) return;
  setFlagsFromString('--enable-experimental-regexp-engine');
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  backtrackingBounded = true;
}

export function compileRegex(pattern: RegExp | string): CompiledRegex {
  let regex: RegExp;
  try {
    regex = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
  } catch (err) {
    throw new UserError(`Invalid metric regex ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  const nested = nestedQuantifier(regex.source);
  if (nested !== undefined) {
    throw new UserError(
      `The metric regex ${regex} repeats a repetition (${nested}), which can take minutes on one line that does not match: drop the inner or the outer quantifier, e.g. (\\d+) instead of (\\d+)+`,
    );
  }
  boundBacktracking();
  try {
    new RegExp(regex.source, `${regex.flags.replace(/[gy]/g, '')}l`);
  } catch {
    throw new UserError(
      `The metric regex ${regex} cannot be matched in bounded time (a backreference, or the i or u flag): write it without them, e.g. [Ll]oss instead of the i flag.`,
    );
  }
  const groups = [...regex.source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
  if (groups.length === 0) {
    throw new UserError(`The metric regex ${regex} needs named groups, e.g. (?<loss>\\S+), or a (?<key>…) and a (?<value>…) group.`);
  }
  if (groups.includes('key') && groups.includes('value')) {
    const global = new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
    return {
      parse(line) {
        if (line.length > MAX_REGEX_LINE_LENGTH) return undefined;
        const values = new Map<string, number>();
        let matched = false;
        for (const m of line.matchAll(global)) {
          matched = true;
          const number = parseNumber(m.groups!.value ?? '');
          if (number === undefined) return malformed(`regex value "${m.groups!.value}" is not a number`);
          values.set(m.groups!.key!, number);
        }
        return matched ? { kind: 'metrics', values, reader: 'regex' } : undefined;
      },
    };
  }
  const single = regex.flags.includes('g') || regex.flags.includes('y') ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')) : regex;
  return {
    parse(line) {
      if (line.length > MAX_REGEX_LINE_LENGTH) return undefined;
      const m = single.exec(line);
      if (!m) return undefined;
      const values = new Map<string, number>();
      for (const [name, text] of Object.entries(m.groups ?? {})) {
        if (text === undefined) continue;
        const number = parseNumber(text.trim());
        if (number === undefined) return malformed(`regex group ${name}="${text}" is not a number`);
        values.set(name, number);
      }
      return values.size > 0 ? { kind: 'metrics', values, reader: 'regex' } : TEXT;
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

  /** Appends one point per metric to `out`; returns how many. `stated`: the step the line gave in words. */
  points(values: Map<string, number>, wall: number, out: MetricPoint[], stated?: number): number {
    let step = stated !== undefined && Number.isSafeInteger(stated) ? stated : undefined;
    for (const key of step === undefined ? STEP_KEYS : []) {
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
  private readonly readers: ReaderSwitches;
  private readonly table: TableReader | undefined;
  private readonly counts = new Map<ReaderName, number>();

  constructor(options: LineParserOptions = {}) {
    this.steps = new StepCounter(options.onNewKey);
    this.regex = options.regex === undefined ? undefined : compileRegex(options.regex);
    this.readers = options.readers ?? {};
    this.table = this.readers.table === false ? undefined : new TableReader();
  }

  /** Appends the line's points to `out`. A line whose values are all step keys is text. */
  read(line: string, wall: number, out: MetricPoint[]): LineKind {
    let parsed = parseLine(line, this.regex, this.readers);
    if (parsed.kind === 'text' && this.table && line.length <= MAX_LINE_LENGTH) {
      const row = this.table.read(line);
      if (row) parsed = { kind: 'metrics', reader: 'table', ...row };
    }
    if (parsed.kind !== 'metrics') return parsed.kind;
    if (this.steps.points(parsed.values, wall, out, parsed.step) === 0) return 'text';
    this.counts.set(parsed.reader, (this.counts.get(parsed.reader) ?? 0) + 1);
    return 'metrics';
  }

  /** How many lines each reader read as metrics since the last call. */
  takeCounts(): Map<ReaderName, number> {
    const counts = new Map(this.counts);
    this.counts.clear();
    return counts;
  }
}
