/**
 * The one run-filter grammar: MLflow 2.12.2's `search_runs` filter (mlflow/utils/search_utils.py,
 * `SearchUtils.parse_search_filter`) plus Runboard's lenient forms. The CLI (`runboard runs
 * --filter`), the runs table (in the browser, so nothing here imports Node) and the MLflow server
 * (with `strict: 'mlflow'`) read filters with this module; src/core/store/runFilterSql.ts turns
 * the same tree into SQL. The README's "Filtering runs" section is the user's documentation.
 */

export const FILTER_STATUSES = ['queued', 'running', 'finished', 'failed', 'killed', 'crashed'] as const;
export type FilterStatus = (typeof FILTER_STATUSES)[number];

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A LIKE pattern read once: literal text, `%` (any run of characters) or `_` (one character). */
export type LikePart = { literal: string } | '%' | '_';

/** What a clause asks of the value it is about. A run lacking the value matches only `IS NULL`. */
export type ValueTest =
  | { type: 'compare'; op: Comparison; value: number }
  /** Text equality; with `number`, a text reading as that number matches too (`lr = 0.1` holds for "0.10"). */
  | { type: 'text'; op: '=' | '!='; value: string; number?: number }
  | { type: 'like'; caseless: boolean; pattern: LikePart[] }
  | { type: 'in'; negated: boolean; values: string[] }
  /** `IS NOT NULL` (negated: `IS NULL`): whether the run has the value at all. */
  | { type: 'present'; negated: boolean };

export const TEXT_ATTRIBUTES = ['name', 'experiment', 'run_id', 'user_id'] as const;
export const NUMBER_ATTRIBUTES = ['id', 'start_time', 'end_time', 'duration'] as const;
export type TextAttribute = (typeof TEXT_ATTRIBUTES)[number];
export type NumberAttribute = (typeof NUMBER_ATTRIBUTES)[number];

export type FilterTarget =
  | { kind: 'metric' | 'param' | 'tag'; key: string }
  | { kind: 'attribute'; attribute: TextAttribute | NumberAttribute };

export type RunFilterClause =
  | (FilterTarget & { test: ValueTest; at: number })
  /** A status clause of any operator, resolved to the statuses it admits. */
  | { kind: 'status'; statuses: FilterStatus[]; at: number };

/** Clauses that must all hold (the grammar has AND only, as MLflow's). */
export interface RunFilterAst {
  clauses: RunFilterClause[];
}

export interface RunFilterOptions {
  /** Refuse what MLflow's server refuses, with its message (for the MLflow-compatible `runs/search`). */
  strict?: 'mlflow';
}

/** A filter that cannot be read: `position` is the 0-based offset in the text, `message` one line. */
export class RunFilterSyntaxError extends Error {
  override name = 'RunFilterSyntaxError';
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

/** The filter on one line with a caret where the problem is: `params.lr < ^and x`. */
export function caretLine(text: string, position: number): string {
  return `${text.slice(0, position)}^${text.slice(position)}`.replace(/\s+/g, ' ');
}

/** The run a filter is evaluated on in memory (the table): metrics hold last values, NaN as null or NaN. */
export interface FilterableRun {
  id: number;
  /** MLflow's run id (`run_id`); without it, run_id is the integer id as text. */
  mlflowId?: string | null;
  /** MLflow's `user_id`. */
  user?: string | null;
  name: string;
  experiment: string;
  status: FilterStatus;
  startedAt: number | null;
  endedAt: number | null;
  durationMs?: number | null;
  params: Record<string, string>;
  metrics: Record<string, number | null>;
  tags: Record<string, string>;
}

// ── reading ───────────────────────────────────────────────────────────────────────────────────

interface Token {
  type: 'word' | 'quoted' | 'number' | 'op' | 'punct' | 'end';
  text: string;
  at: number;
  end: number;
}

const PATTERNS: [Token['type'], RegExp][] = [
  ['number', /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.\-/:@])/y],
  ['op', /<=|>=|!=|<|>|=/y],
  // Keys in the wild hold `-`, `/` and `:` (`val/loss`, `layer-1`); dots separate `metrics.` from the key.
  ['word', /[\w\-/:@.]+/y],
  ['punct', /[(),]/y],
];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      // A quote inside is written twice (`'it''s'`).
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new RunFilterSyntaxError(`unclosed ${c}: end the text started here with ${c}`, i);
        if (text[j] === c && text[j + 1] === c) {
          value += c;
          j += 2;
        } else if (text[j] === c) break;
        else value += text[j++];
      }
      tokens.push({ type: 'quoted', text: c + value, at: i, end: j + 1 });
      i = j + 1;
    } else {
      const found = PATTERNS.map(([type, re]) => {
        re.lastIndex = i;
        return { type, m: re.exec(text) };
      }).find((p) => p.m);
      if (!found) throw new RunFilterSyntaxError(`unexpected character "${c}"`, i);
      const m = found.m![0];
      tokens.push({ type: found.type, text: m, at: i, end: i + m.length });
      i += m.length;
    }
  }
  tokens.push({ type: 'end', text: '', at: text.length, end: text.length });
  return tokens;
}

/** The quote a quoted token used, and its text. */
const quoteOf = (t: Token) => t.text[0] as "'" | '"' | '`';
const unquoted = (t: Token) => (t.type === 'quoted' ? t.text.slice(1) : t.text);

const ENTITIES: Record<string, 'metric' | 'param' | 'tag' | 'attribute' | 'dataset'> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'param',
  parameters: 'param',
  param: 'param',
  params: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** MLflow's attribute keys (RunInfo's searchable ones and their aliases) as Runboard reads them. */
const MLFLOW_ATTRIBUTES: Record<string, TextAttribute | NumberAttribute | 'status' | 'artifact_uri'> = {
  run_id: 'run_id',
  run_name: 'name',
  'run name': 'name',
  'Run name': 'name',
  'Run Name': 'name',
  user_id: 'user_id',
  status: 'status',
  start_time: 'start_time',
  created: 'start_time',
  Created: 'start_time',
  end_time: 'end_time',
  artifact_uri: 'artifact_uri',
};
/** Runboard's own attribute names, lenient mode only. */
const RUNBOARD_ATTRIBUTES: Record<string, TextAttribute | NumberAttribute> = { name: 'name', experiment: 'experiment', id: 'id', duration: 'duration' };

/** MLflow's run statuses as Runboard's: MLflow has no "crashed" and reports it as FAILED. */
const MLFLOW_STATUSES: Record<string, FilterStatus[]> = {
  RUNNING: ['running'],
  SCHEDULED: ['queued'],
  FINISHED: ['finished'],
  FAILED: ['failed', 'crashed'],
  KILLED: ['killed'],
};

const MLFLOW_COMPARATORS = {
  metric: "{'>', '>=', '!=', '=', '<', '<='}",
  param: "{'!=', '=', 'LIKE', 'ILIKE'}",
  string: "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}",
};

type Operator = Comparison | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

/** A value as written: a number, quoted text, a bare word (lenient), or a parenthesised list. */
type Value = { type: 'number'; value: number; text: string } | { type: 'text'; value: string; quoted: boolean; text: string } | { type: 'list'; values: string[] } | { type: 'none' };

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private readonly strict: boolean;

  constructor(text: string, options: RunFilterOptions) {
    this.tokens = tokenize(text);
    this.strict = options.strict === 'mlflow';
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private take(): Token {
    return this.tokens[this.index++]!;
  }

  private isWord(word: string, token = this.peek()): boolean {
    return token.type === 'word' && token.text.toUpperCase() === word;
  }

  parse(): RunFilterAst {
    const clauses: RunFilterClause[] = [];
    if (this.peek().type === 'end') return { clauses };
    for (;;) {
      clauses.push(this.clause());
      if (this.peek().type === 'end') return { clauses };
      if (this.isWord('AND')) {
        this.take();
        if (this.peek().type === 'end') throw new RunFilterSyntaxError('expected a condition after AND', this.peek().at);
        continue;
      }
      if (this.isWord('OR')) throw new RunFilterSyntaxError('OR is not supported: conditions are joined by AND only (as in MLflow)', this.peek().at);
      throw new RunFilterSyntaxError(`expected AND or the end, found "${this.peek().text}"`, this.peek().at);
    }
  }

  private clause(): RunFilterClause {
    const at = this.peek().at;
    const { entity, key } = this.identifier();
    const opAt = this.peek().at;
    const op = this.operator();
    const value = op === 'IS NULL' || op === 'IS NOT NULL' ? ({ type: 'none' } as const) : this.value(op);
    return this.build(entity, key, op, value, at, opAt);
  }

  /** `metrics.acc`, `params."my key"`, metrics.`a b`, `` `metrics`.acc ``, or a bare attribute. */
  private identifier(): { entity: string; key: string } {
    const first = this.peek();
    if (first.type !== 'word' && !(first.type === 'quoted' && quoteOf(first) === '`')) {
      throw new RunFilterSyntaxError(`expected a key such as metrics.accuracy, params.lr or status, found ${first.type === 'end' ? 'the end' : `"${first.text}"`}`, first.at);
    }
    // Adjacent tokens (no space between) form one identifier: `params.` then "my key".
    const parts: Token[] = [this.take()];
    while ((this.peek().type === 'word' || this.peek().type === 'quoted') && this.peek().at === parts.at(-1)!.end) parts.push(this.take());
    let entity: string | undefined;
    let key = '';
    for (const part of parts) {
      if (part.type === 'quoted') {
        if (entity === undefined && key === '' && parts.length > 1) entity = unquoted(part);
        else key += unquoted(part);
        continue;
      }
      let text = part.text;
      if (entity === undefined) {
        const dot = text.indexOf('.');
        if (dot === -1) {
          key += text;
          continue;
        }
        entity = key + text.slice(0, dot);
        text = text.slice(dot + 1);
        key = '';
      } else if (key === '' && text.startsWith('.')) text = text.slice(1);
      key += text;
    }
    if (entity !== undefined && key === '') throw new RunFilterSyntaxError(`name the key after "${entity}.", as in ${entity}.accuracy`, parts.at(-1)!.end);
    return { entity: entity ?? 'attribute', key };
  }

  private operator(): Operator {
    const t = this.peek();
    if (t.type === 'op') return this.take().text as Comparison;
    if (this.isWord('LIKE') || this.isWord('ILIKE') || this.isWord('IN')) return this.take().text.toUpperCase() as Operator;
    if (this.isWord('NOT') && this.isWord('IN', this.tokens[this.index + 1])) {
      this.index += 2;
      return 'NOT IN';
    }
    if (this.isWord('IS')) {
      this.take();
      const negated = this.isWord('NOT');
      if (negated) this.take();
      if (!this.isWord('NULL')) throw new RunFilterSyntaxError(`expected ${negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS'}`, this.peek().at);
      this.take();
      if (this.strict) throw new RunFilterSyntaxError(`Invalid clause(s) in filter string: 'IS ${negated ? 'NOT ' : ''}NULL'`, t.at);
      return negated ? 'IS NOT NULL' : 'IS NULL';
    }
    throw new RunFilterSyntaxError(
      `expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL), found ${t.type === 'end' ? 'the end' : `"${t.text}"`}`,
      t.at,
    );
  }

  private value(op: Operator): Value {
    const t = this.peek();
    if (op === 'IN' || op === 'NOT IN') {
      if (!(t.type === 'punct' && t.text === '(')) throw new RunFilterSyntaxError(`expected a list in parentheses after ${op}, as in ('a', 'b')`, t.at);
      this.take();
      const values: string[] = [];
      for (;;) {
        const item = this.take();
        const v = this.scalar(item, op);
        if (v.type === 'number' && this.strict) throw this.mlflowListError(item);
        if (v.type === 'text' && !v.quoted && this.strict) throw this.mlflowListError(item);
        values.push(v.text);
        const sep = this.take();
        if (sep.type === 'punct' && sep.text === ')') return { type: 'list', values };
        if (!(sep.type === 'punct' && sep.text === ',')) throw new RunFilterSyntaxError(`expected "," or ")" in the list, found ${sep.type === 'end' ? 'the end' : `"${sep.text}"`}`, sep.at);
      }
    }
    return this.scalar(this.take(), op);
  }

  private mlflowListError(item: Token): RunFilterSyntaxError {
    return new RunFilterSyntaxError('While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list', item.at);
  }

  private scalar(t: Token, op: Operator): Extract<Value, { type: 'number' | 'text' }> {
    if (t.type === 'number') return { type: 'number', value: Number(t.text), text: t.text };
    if (t.type === 'quoted' && quoteOf(t) !== '`') return { type: 'text', value: unquoted(t), quoted: true, text: unquoted(t) };
    if (t.type === 'word' && !['AND', 'OR'].includes(t.text.toUpperCase())) {
      if (this.strict) {
        throw new RunFilterSyntaxError(
          `Parameter value is either not quoted or unidentified quote types used for string value ${t.text}. Use either single or double quotes.`,
          t.at,
        );
      }
      return { type: 'text', value: t.text, quoted: false, text: t.text };
    }
    throw new RunFilterSyntaxError(`expected a value after ${op} (a number, 'text' or a word), found ${t.type === 'end' ? 'the end' : `"${t.text}"`}`, t.at);
  }

  private build(entityText: string, key: string, op: Operator, value: Value, at: number, opAt: number): RunFilterClause {
    const entity = ENTITIES[entityText];
    if (!entity) {
      throw new RunFilterSyntaxError(
        this.strict
          ? `Invalid entity type '${entityText}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']`
          : `unknown "${entityText}.": write metrics.KEY, params.KEY, tags.KEY or attributes.KEY`,
        at,
      );
    }
    if (entity === 'dataset') throw new RunFilterSyntaxError('datasets.* filters are not supported by Runboard', at);
    if (entity === 'attribute') return this.attribute(key, op, value, at, opAt);
    if (entity === 'metric') {
      if (value.type === 'none') return { kind: 'metric', key, test: presence(op), at };
      if (!isComparison(op)) throw this.refuse(`${op} does not apply to metrics: compare them with =, !=, <, <=, >, >=`, `Invalid comparator '${op}' not one of '${MLFLOW_COMPARATORS.metric}`, opAt);
      if (value.type !== 'number') throw new RunFilterSyntaxError(this.strict ? `Expected numeric value type for metric. Found ${shown(value)}` : `metrics.${key} compares with a number, not ${shown(value)}`, at);
      return { kind: 'metric', key, test: { type: 'compare', op, value: value.value }, at };
    }
    const identifierType = entity === 'param' ? 'parameter' : 'tag';
    if (this.strict) {
      if (!['=', '!=', 'LIKE', 'ILIKE'].includes(op)) throw new RunFilterSyntaxError(`Invalid comparator '${op}' not one of '${MLFLOW_COMPARATORS.param}'`, opAt);
      if (value.type === 'number') {
        throw new RunFilterSyntaxError(`Expected a quoted string value for ${identifierType} (e.g. 'my-value'). Got value ${value.text}`, at);
      }
    }
    return { kind: entity, key, test: this.stringTest(`${entity}s.${key}`, op, value, opAt), at };
  }

  private attribute(name: string, op: Operator, value: Value, at: number, opAt: number): RunFilterClause {
    const attribute = MLFLOW_ATTRIBUTES[name] ?? (this.strict ? undefined : RUNBOARD_ATTRIBUTES[name]);
    if (!attribute) {
      if (this.strict) {
        throw invalidMlflowAttribute(name, at);
      }
      throw new RunFilterSyntaxError(
        `unknown attribute "${name}": use status, name, experiment, id, run_id, user_id, start_time, end_time or duration, or a key such as metrics.${name} or params.${name}`,
        at,
      );
    }
    if (attribute === 'artifact_uri') throw new RunFilterSyntaxError('attributes.artifact_uri cannot be filtered on in Runboard', at);
    if (attribute === 'status') return { kind: 'status', statuses: this.statuses(op, value, at, opAt), at };
    if ((NUMBER_ATTRIBUTES as readonly string[]).includes(attribute)) {
      const numberAttribute = attribute as NumberAttribute;
      if (value.type === 'none') return { kind: 'attribute', attribute: numberAttribute, test: presence(op), at };
      if (!isComparison(op)) {
        throw this.refuse(`${op} does not apply to ${name}: compare it with =, !=, <, <=, >, >=`, `Invalid comparator '${op}' not one of '${MLFLOW_COMPARATORS.string}`, opAt);
      }
      if (value.type !== 'number') {
        throw new RunFilterSyntaxError(
          this.strict ? `Expected numeric value type for numeric attribute: ${name}. Found ${shown(value)}` : `${name} compares with a number, not ${shown(value)}`,
          at,
        );
      }
      return { kind: 'attribute', attribute: numberAttribute, test: { type: 'compare', op, value: value.value }, at };
    }
    if (this.strict) {
      if (isComparison(op) && op !== '=' && op !== '!=') throw new RunFilterSyntaxError(`Invalid comparator '${op}' not one of '${MLFLOW_COMPARATORS.string}'`, opAt);
      if (value.type === 'number') throw new RunFilterSyntaxError(`Expected a quoted string value for attributes. Got value ${value.text}`, at);
      if (value.type === 'list' && attribute !== 'run_id') {
        throw new RunFilterSyntaxError("Only the 'run_id' attribute supports comparison with a list of quoted string values.", at);
      }
    }
    return { kind: 'attribute', attribute: attribute as TextAttribute, test: this.stringTest(name, op, value, opAt), at };
  }

  /** The test on a text value (params, tags, names): `<`… compare numbers (lenient), `=` text or the same number. */
  private stringTest(what: string, op: Operator, value: Value, opAt: number): ValueTest {
    if (value.type === 'none') return presence(op);
    if (value.type === 'list') return { type: 'in', negated: op === 'NOT IN', values: value.values };
    if (op === 'LIKE' || op === 'ILIKE') return { type: 'like', caseless: op === 'ILIKE', pattern: likePattern(value.text) };
    if (op === '=' || op === '!=') {
      // An unquoted number also matches the same number written otherwise ("0.10"); quoted text is exact, as in MLflow.
      const number = value.type === 'number' ? value.value : undefined;
      return { type: 'text', op, value: value.text, ...(number === undefined ? {} : { number }) };
    }
    if (isComparison(op)) {
      if (value.type !== 'number') throw new RunFilterSyntaxError(`${op} compares numbers: ${what} ${op} needs a number, not ${shown(value)}`, opAt);
      return { type: 'compare', op, value: value.value };
    }
    throw new RunFilterSyntaxError(`${op} needs a list in parentheses, as in ${what} ${op} ('a', 'b')`, opAt);
  }

  private statuses(op: Operator, value: Value, at: number, opAt: number): FilterStatus[] {
    if (value.type === 'none') {
      if (op === 'IS NULL') return [];
      return [...FILTER_STATUSES];
    }
    if (isComparison(op) && op !== '=' && op !== '!=') {
      throw this.refuse(`${op} does not apply to status: use =, !=, IN, NOT IN, LIKE or ILIKE`, `Invalid comparator '${op}' not one of '${MLFLOW_COMPARATORS.string}'`, opAt);
    }
    if (value.type === 'number') throw new RunFilterSyntaxError(this.strict ? `Expected a quoted string value for attributes. Got value ${value.text}` : `status is a word such as finished, not ${value.text}`, at);
    if (value.type === 'list' && this.strict) throw new RunFilterSyntaxError("Only the 'run_id' attribute supports comparison with a list of quoted string values.", at);
    // Each status's names as the grammar reads them: MLflow's, and in lenient mode Runboard's too, any case.
    const names = (status: FilterStatus): string[] => {
      const mlflow = Object.keys(MLFLOW_STATUSES).filter((k) => MLFLOW_STATUSES[k]!.includes(status));
      return this.strict ? mlflow : [status, ...mlflow];
    };
    const admits = (text: string): FilterStatus[] => {
      if (this.strict) return MLFLOW_STATUSES[text] ?? [];
      const lower = text.toLowerCase();
      const found = lower === 'scheduled' ? ['queued' as const] : FILTER_STATUSES.filter((s) => s === lower);
      if (found.length === 0) throw new RunFilterSyntaxError(`unknown status "${text}": use ${FILTER_STATUSES.join(', ')}`, at);
      return found;
    };
    const complement = (set: FilterStatus[]) => FILTER_STATUSES.filter((s) => !set.includes(s));
    if (value.type === 'list') {
      const set = [...new Set(value.values.flatMap(admits))];
      return op === 'NOT IN' ? complement(set) : set;
    }
    if (op === 'LIKE' || op === 'ILIKE') {
      const matches = likeMatcher({ type: 'like', caseless: op === 'ILIKE', pattern: likePattern(value.text) });
      return FILTER_STATUSES.filter((s) => names(s).some(matches));
    }
    if (op === 'IN' || op === 'NOT IN') throw new RunFilterSyntaxError(`${op} needs a list in parentheses, as in status ${op} ('finished', 'failed')`, opAt);
    const set = admits(value.text);
    return op === '!=' ? complement(set) : set;
  }

  /** A refusal worded the lenient way, or MLflow's way in strict mode. */
  private refuse(lenient: string, mlflow: string, at: number): RunFilterSyntaxError {
    return new RunFilterSyntaxError(this.strict ? mlflow : lenient, at);
  }
}

/** MLflow's words, its set of keys printed as Python prints a set. */
const invalidMlflowAttribute = (name: string, at: number) =>
  new RunFilterSyntaxError(`Invalid attribute key '${name}' specified. Valid keys are '{${Object.keys(MLFLOW_ATTRIBUTES).map((k) => `'${k}'`).join(', ')}}'`, at);
const isComparison = (op: Operator): op is Comparison => op === '=' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=';
const presence = (op: Operator): ValueTest => ({ type: 'present', negated: op === 'IS NULL' });
const shown = (value: Value) => (value.type === 'text' ? `"${value.value}"` : value.type === 'number' ? value.text : 'a list');

/** `%` any run, `_` one character; a backslash makes the next character literal (`50\%`). */
function likePattern(text: string): LikePart[] {
  const parts: LikePart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) literal += text[++i];
    else if (c === '%' || c === '_') {
      if (literal) parts.push({ literal });
      literal = '';
      parts.push(c);
    } else literal += c;
  }
  if (literal) parts.push({ literal });
  return parts;
}

/** Reads a filter; throws RunFilterSyntaxError with the position of the first problem. */
export function parseRunFilter(text: string, options: RunFilterOptions = {}): RunFilterAst {
  return new Parser(text, options).parse();
}

// ── evaluating in memory ──────────────────────────────────────────────────────────────────────

/**
 * Whether text reads as a number, and which: the same test and value as SQLite's, so the table and
 * the store agree (runFilterSql.ts: a digit, only `0-9eE.+-`, then CAST AS REAL, which reads the
 * longest number at the start and 0 when there is none).
 */
export function numberInText(text: string): number | undefined {
  if (!/[0-9]/.test(text) || /[^0-9eE.+-]/.test(text)) return undefined;
  const value = parseFloat(text);
  return Number.isNaN(value) ? 0 : value;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// SQLite's LIKE folds ASCII letters only; so does this.
const foldAscii = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** A LIKE test as a predicate on text. */
export function likeMatcher(test: Extract<ValueTest, { type: 'like' }>): (text: string) => boolean {
  const source = test.pattern.map((p) => (p === '%' ? '[\\s\\S]*' : p === '_' ? '[\\s\\S]' : escapeRegExp(test.caseless ? foldAscii(p.literal) : p.literal))).join('');
  const re = new RegExp(`^${source}$`, 'u');
  return test.caseless ? (text) => re.test(foldAscii(text)) : (text) => re.test(text);
}

const COMPARE: Record<Comparison, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** The test as a predicate on the run's value: undefined when the run lacks it, null for a NaN metric. */
function valuePredicate(test: ValueTest): (value: string | number | null | undefined) => boolean {
  switch (test.type) {
    case 'present':
      return (v) => (v !== undefined) !== test.negated;
    case 'compare': {
      const holds = COMPARE[test.op];
      return (v) => {
        const n = typeof v === 'string' ? numberInText(v) : v;
        return n !== undefined && n !== null && !Number.isNaN(n) && holds(n, test.value);
      };
    }
    case 'text': {
      const equal = (v: string) => v === test.value || (test.number !== undefined && numberInText(v) === test.number);
      return (v) => typeof v === 'string' && equal(v) === (test.op === '=');
    }
    case 'like': {
      const matches = likeMatcher(test);
      return (v) => typeof v === 'string' && matches(v);
    }
    case 'in': {
      const values = new Set(test.values);
      return (v) => typeof v === 'string' && values.has(v) !== test.negated;
    }
    default: {
      const never: never = test;
      throw new Error(`unknown test ${JSON.stringify(never)}`);
    }
  }
}

const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/** The value a clause is about, read from an in-memory run. */
function targetValue(target: FilterTarget, run: FilterableRun, now: number): string | number | null | undefined {
  if (target.kind !== 'attribute') {
    const values: Record<string, string | number | null> = target.kind === 'metric' ? run.metrics : target.kind === 'param' ? run.params : run.tags;
    return own(values, target.key);
  }
  switch (target.attribute) {
    case 'name':
      return run.name;
    case 'experiment':
      return run.experiment;
    case 'run_id':
      return run.mlflowId ?? String(run.id);
    case 'user_id':
      return run.user ?? undefined;
    case 'id':
      return run.id;
    case 'start_time':
      return run.startedAt ?? undefined;
    case 'end_time':
      return run.endedAt ?? undefined;
    case 'duration': {
      if (run.durationMs != null) return run.durationMs / 1000;
      return run.startedAt === null ? undefined : ((run.endedAt ?? now) - run.startedAt) / 1000;
    }
  }
}

/** The filter as a predicate on in-memory runs (the runs table): the same answers as the store's SQL. */
export function compileRunFilter(ast: RunFilterAst, now = Date.now()): (run: FilterableRun) => boolean {
  const tests = ast.clauses.map((clause): ((run: FilterableRun) => boolean) => {
    if (clause.kind === 'status') {
      const statuses = new Set<string>(clause.statuses);
      return (run) => statuses.has(run.status);
    }
    const holds = valuePredicate(clause.test);
    return (run) => holds(targetValue(clause, run, now));
  });
  return (run) => tests.every((t) => t(run));
}

// ── order-by (MLflow's `order_by` list) ───────────────────────────────────────────────────────

export interface RunOrderKey {
  target: FilterTarget | { kind: 'status' };
  descending: boolean;
}

/**
 * MLflow's `order_by`: `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`; keys as in
 * filters. Runboard's own attribute names are read too unless `strict`.
 */
export function parseOrderBy(items: readonly string[], options: RunFilterOptions = {}): RunOrderKey[] {
  return items.map((item) => {
    const m = /^(.*?)(?:\s+(asc|desc))?\s*$/is.exec(item.trim())!;
    // The key is read as the left side of a filter clause, so quoting and aliases are read once.
    let clause: RunFilterClause;
    try {
      clause = parseRunFilter(`${m[1]} IS NOT NULL`).clauses[0]!;
    } catch {
      throw new RunFilterSyntaxError(`Invalid order_by clause '${item}'. Could not be parsed.`, 0);
    }
    if (options.strict === 'mlflow' && clause.kind === 'attribute' && !Object.values(MLFLOW_ATTRIBUTES).includes(clause.attribute)) {
      throw invalidMlflowAttribute(m[1]!, 0);
    }
    const target = clause.kind === 'status' ? { kind: 'status' as const } : clause.kind === 'attribute' ? { kind: 'attribute' as const, attribute: clause.attribute } : { kind: clause.kind, key: clause.key };
    return { target, descending: m[2]?.toLowerCase() === 'desc' };
  });
}
