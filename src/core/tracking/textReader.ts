import { splitProgressBar } from './progressBars.ts';

/**
 * Reads `name <separator> number` pairs from a line of free text, as training code prints them:
 * after any prefix (timestamps, logger names and levels, `Epoch 3:`, `[0]`, `|`), separated by
 * `=`, `:` or whitespace, split by `,` `|` `;` tabs ` - ` or spaces, with units, percent signs and
 * running averages in parentheses after the numbers.
 *
 * Precision comes first: a line is read only when it clearly holds metrics: made only of
 * `key=value` pairs, or giving its step or epoch, or naming a metric by a known word (loss,
 * accuracy, …). A pair must stand on its own: a number followed by more prose (`Found 8 files`),
 * in parentheses (`Namespace(lr=0.1)`), with a size or rate unit (`4.5GB`, `75.1it/s`), or
 * written like a version, date, clock time or with thousands separators is not a value.
 */

export interface TextMetrics {
  reader: 'pairs' | 'progress';
  values: Map<string, number>;
  /** The step the line states itself (its step, iteration, epoch and batch, boosting round). */
  step?: number;
}

/** A line meant as `key=value` metrics whose values are garbled (`loss=0.2.3`). */
export const GARBLED = 'garbled';

export interface TextReaderSwitches {
  pairs: boolean;
  progress: boolean;
}

// ── tokens ───────────────────────────────────────────────────────────────────

type Kind = 'word' | 'num' | 'frac' | 'bad' | 'colon' | 'eq' | 'delim' | 'lbrack' | 'rbrack' | 'paren' | 'quote' | 'other';
type Unit = '' | '%' | 'time' | 'rate' | 'size';

interface Token {
  kind: Kind;
  text: string;
  /** Whitespace before the token. */
  space: boolean;
  value: number;
  total: number;
  unit: Unit;
}

const NUMBER_AT = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const FRACTION_REST = /\s*\/\s*(\d+)(?![\d./])/y;
const UNIT_AT = /[A-Za-zµ%]+(?:\/[A-Za-z]+)?/y;
const BAD_REST = /[\w.,:/+-]*/y;
/** A spread after a mean, as cross-validation prints it: `0.48234+0.00123`, `0.213 + 0.0123`. */
const SPREAD_AT = /\s*(?:\+|±)\s*(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])/y;
const SIGNED_SPECIAL_AT = /[+-](?:inf(?:inity)?|nan)(?![\w.])/iy;
const WORD_AT = /[A-Za-z_][\w.@/'#+-]*/y;
const OTHER_AT = /[^\s,|;[\]()=:]+/y;
const TIME_UNITS = new Set(['ms', 's', 'sec', 'secs', 'us', 'µs', 'ns', 'min', 'mins', 'h']);
const SIZE_UNITS = /^(?:[kKMGTP]i?B?|B|b|bytes)$/;

const PUNCTUATION: Record<string, Kind> = { ':': 'colon', '=': 'eq', '[': 'lbrack', ']': 'rbrack' };

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

function token(kind: Kind, text: string, space: boolean): Token {
  return { kind, text, space, value: NaN, total: NaN, unit: '' };
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let space = true;
  let p = 0;
  while (p < line.length) {
    const c = line.charCodeAt(p);
    const next = line.charCodeAt(p + 1);
    if (c === 0x20) {
      // ` - ` and ` — ` separate fields (Keras, Python logging); a lone dash starts a number.
      if ((next === 0x2d || next === 0x2014) && (line.charCodeAt(p + 2) === 0x20 || p + 2 === line.length)) {
        tokens.push(token('delim', '-', true));
        p += 2;
      } else {
        p++;
      }
      space = true;
      continue;
    }
    const start = p;
    if (c === 0x09 || c === 0x2c || c === 0x7c || c === 0x3b || c === 0x2022) {
      tokens.push(token('delim', line[p]!, space));
      p++;
      space = c === 0x09;
      continue;
    }
    SIGNED_SPECIAL_AT.lastIndex = p;
    if (isDigit(c) || ((c === 0x2d || c === 0x2b || c === 0x2e) && (isDigit(next) || (next === 0x2e && isDigit(line.charCodeAt(p + 2)))))) {
      p = number(line, p, space, tokens);
    } else if ((c === 0x2d || c === 0x2b) && SIGNED_SPECIAL_AT.test(line)) {
      tokens.push(token('word', line.slice(p, SIGNED_SPECIAL_AT.lastIndex), space));
      p = SIGNED_SPECIAL_AT.lastIndex;
    } else if (isLetter(c)) {
      WORD_AT.lastIndex = p;
      WORD_AT.exec(line);
      tokens.push(token('word', line.slice(p, WORD_AT.lastIndex), space));
      p = WORD_AT.lastIndex;
    } else if (PUNCTUATION[line[p]!] !== undefined) {
      tokens.push(token(PUNCTUATION[line[p]!]!, line[p]!, space));
      p++;
    } else if (c === 0x28) {
      const close = closingParen(line, p);
      tokens.push(token(close < 0 ? 'other' : 'paren', line.slice(p + 1, close < 0 ? line.length : close), space));
      p = close < 0 ? line.length : close + 1;
    } else if (c === 0x27 || c === 0x22 || c === 0x60) {
      // A quoted string is never a name or a value.
      const close = line.indexOf(line[p]!, p + 1);
      p = close < 0 ? line.length : close + 1;
      tokens.push(token('quote', line.slice(start, p), space));
    } else {
      OTHER_AT.lastIndex = p;
      OTHER_AT.exec(line);
      p = Math.max(OTHER_AT.lastIndex, p + 1);
      tokens.push(token('other', line.slice(start, p), space));
    }
    space = false;
  }
  return tokens;
}

function closingParen(line: string, open: number): number {
  let depth = 0;
  for (let i = open; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x28) depth++;
    else if (c === 0x29 && --depth === 0) return i;
  }
  return -1;
}

/** Scans a number and what is glued to it (unit, fraction, or the rest of a date or version). */
function number(line: string, p: number, space: boolean, tokens: Token[]): number {
  NUMBER_AT.lastIndex = p;
  const text = NUMBER_AT.exec(line)![0];
  let end = p + text.length;
  const after = line.charCodeAt(end);
  const following = line.charCodeAt(end + 1);
  const t = token('num', text, space);
  t.value = Number(text);
  if ((after === 0x2f || after === 0x20) && /^\d+$/.test(text)) {
    // `850/1875`, `200/ 2983 batches`, `100 / 1000` (fairseq).
    FRACTION_REST.lastIndex = end;
    const fraction = FRACTION_REST.exec(line);
    if (fraction) {
      t.kind = 'frac';
      t.total = Number(fraction[1]);
      tokens.push(t);
      return FRACTION_REST.lastIndex;
    }
  }
  if ((after === 0x2e || after === 0x2d || after === 0x2c || after === 0x3a || after === 0x2f) && isDigit(following)) {
    // 2026-11-25, 3.11.4, 1,199,882, 0:00:12, 01/25/2024: not a value.
    BAD_REST.lastIndex = end;
    BAD_REST.exec(line);
    t.kind = 'bad';
    t.text = line.slice(p, BAD_REST.lastIndex);
    tokens.push(t);
    return BAD_REST.lastIndex;
  }
  UNIT_AT.lastIndex = end;
  const unit = UNIT_AT.exec(line);
  if (unit) {
    const u = unit[0];
    end = UNIT_AT.lastIndex;
    if (u === '%') t.unit = '%';
    else if (TIME_UNITS.has(u)) t.unit = 'time';
    else if (u.includes('/')) t.unit = 'rate';
    else if (SIZE_UNITS.test(u)) t.unit = 'size';
    else t.kind = 'bad';
  }
  SPREAD_AT.lastIndex = end;
  if (t.kind === 'num' && SPREAD_AT.test(line)) end = SPREAD_AT.lastIndex;
  const glued = line.charCodeAt(end);
  if (isLetter(glued) || isDigit(glued) || glued === 0x2e || glued === 0x2f) {
    BAD_REST.lastIndex = end;
    BAD_REST.exec(line);
    end = BAD_REST.lastIndex;
    t.kind = 'bad';
  }
  if (t.kind === 'bad') t.text = line.slice(p, end);
  tokens.push(t);
  return end;
}

// ── pairs ────────────────────────────────────────────────────────────────────

interface Pair {
  kind: 'pair';
  words: string[];
  sep: ':' | '=' | ' ';
  /** Undefined when the pair is well formed but its value is not a metric (a size, a rate, a date). */
  value: number | undefined;
  unit: Unit;
  /** `Step [100/600]`, `Accuracy: 9838/10000`. */
  total?: number;
  /** `[640/60000 (1%)]` after an epoch: the batch within it. */
  batch?: { n: number; total: number };
  /** A parenthesised label between name and value: mmengine's `Epoch(train)`. */
  label?: string;
  /** Whether something other than a delimiter or another pair follows (prose). */
  trailed: boolean;
  /** The value starts like a number but is not one (`0.2.3`, `1e`). */
  garbled: boolean;
}

type Item =
  | Pair
  | { kind: 'label' | 'prose'; words: string[] }
  | { kind: 'quote' }
  | { kind: 'round'; n: number }
  | { kind: 'progress'; n: number; total: number }
  | { kind: 'value' | 'delim' | 'other'; text: string };

const MAX_NAME_WORDS = 3;
const LOG_LEVELS = new Set(['info', 'debug', 'warning', 'warn', 'error', 'critical', 'trace', 'notice']);
/** Words of sentences, never of a metric's name: `number of positive: 500`, `Epoch 1 took 12.3s`. */
const STOP_WORDS = new Set(
  ['a an the is are was were be of to in at for with and or on by from as it this that after before into per'.split(' '), 'took takes reached saved loaded using found finished completed started processed skipped'.split(' ')].flat(),
);

/** The value at tokens[k]: a number, nan/inf, a fraction, `[N]` or `[n/N …]`; with the index after it. */
function valueAt(tokens: Token[], k: number): { value: number | undefined; unit: Unit; total?: number; bracket?: boolean; next: number } | undefined {
  const t = tokens[k];
  if (!t) return undefined;
  if (t.kind === 'num') return { value: t.unit === 'rate' || t.unit === 'size' ? undefined : t.value, unit: t.unit, next: k + 1 };
  if (t.kind === 'frac') return { value: t.value, unit: '', total: t.total, next: k + 1 };
  if (t.kind === 'bad') return { value: undefined, unit: '', next: k + 1 };
  if (t.kind === 'word') {
    const special = SPECIAL[t.text.toLowerCase()];
    return special === undefined ? undefined : { value: special, unit: '', next: k + 1 };
  }
  if (t.kind === 'lbrack') {
    const inner = tokens[k + 1];
    if (inner?.kind !== 'num' && inner?.kind !== 'frac') return undefined;
    let close = k + 2;
    if (tokens[close]?.kind === 'paren') close++;
    if (tokens[close]?.kind !== 'rbrack') return undefined;
    if (inner.kind === 'num' && (!Number.isInteger(inner.value) || inner.unit !== '')) return { value: undefined, unit: '', next: close + 1 };
    return { value: inner.value, unit: '', total: inner.kind === 'frac' ? inner.total : undefined, bracket: true, next: close + 1 };
  }
  return undefined;
}

/** Digits and dots only, or a dangling exponent: a number gone wrong (`0.2.3`, `1e`), not a date or a time. */
const isGarbled = (t: Token) => t.kind === 'bad' && /^[+-]?[\d.]*\d[\d.]*(?:[eE][+-]?)?$/.test(t.text);

const SPECIAL: Record<string, number> = { nan: NaN, '-nan': NaN, inf: Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };

/** `[640/60000 (1%)]` or `[ 100/1251 (8%)]`: progress within an epoch. */
function bracketProgress(tokens: Token[], k: number): { n: number; total: number; next: number } | undefined {
  const v = tokens[k]?.kind === 'lbrack' ? valueAt(tokens, k) : undefined;
  return v?.total !== undefined && v.value !== undefined ? { n: v.value, total: v.total, next: v.next } : undefined;
}

function items(tokens: Token[]): Item[] {
  const out: Item[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.kind === 'word' && SPECIAL[t.text.toLowerCase()] === undefined) {
      let j = i;
      while (tokens[j]?.kind === 'word' && (j === i || tokens[j]!.space)) j++;
      const words = tokens.slice(i, j).map((w) => w.text);
      const stepName = isStepWord(words[words.length - 1]!);
      let k = j;
      let label: string | undefined;
      if (tokens[k]?.kind === 'paren' && !tokens[k]!.space) {
        // mmengine's `Epoch(train)` labels the step; DCGAN's `D(x)` is a name.
        if (stepName) label = tokens[k]!.text;
        else words[words.length - 1] += `(${tokens[k]!.text})`;
        k++;
      }
      let sep: Pair['sep'] = ' ';
      const separator = tokens[k];
      if (separator?.kind === 'colon' || separator?.kind === 'eq') {
        // `name = value` (Hugging Face's log_metrics, TensorFlow) is `=` too.
        sep = separator.kind === 'colon' ? ':' : '=';
        k++;
      } else if (separator && separator.kind !== 'num' && separator.kind !== 'frac' && separator.kind !== 'bad' && separator.kind !== 'lbrack' && separator.kind !== 'word') {
        out.push({ kind: 'prose', words });
        i = j;
        continue;
      }
      const v = valueAt(tokens, k);
      if (!v && sep === '=' && tokens[k] && tokens[k]!.kind !== 'delim') {
        // `phase=train`: a key=value pair whose value is text.
        out.push({ kind: 'pair', words, sep, value: undefined, unit: '', trailed: false, garbled: false });
        i = k + 1;
        continue;
      }
      // No space between colon and value is XGBoost's `train-logloss:0.5`, but also `train.py:42` and `localhost:8080`.
      const tight = sep === ':' && v !== undefined && !tokens[k]!.space;
      // Only a step or an epoch takes a bracketed value (`Epoch [1/10]`, `Epoch: [0]`); `Test: [0/390]` is a label and a batch.
      if (!v || (v.bracket && !stepName)) {
        out.push({ kind: sep === ':' ? 'label' : 'prose', words });
        i = sep === ':' ? k : j;
        continue;
      }
      const pair: Pair = { kind: 'pair', words, sep, value: v.value, unit: v.unit, total: v.total, label, trailed: false, garbled: isGarbled(tokens[k]!) };
      if (tight && /[./]/.test(words.join(''))) pair.value = undefined;
      let next = v.next;
      // `Epoch: [0][ 10/5005]`, `Train: 0 [ 100/1251 (8%)]`: the batch within the epoch.
      const batch = bracketProgress(tokens, next);
      if (batch) {
        pair.batch = { n: batch.n, total: batch.total };
        next = batch.next;
      }
      // A running average in parentheses after the current value.
      if (tokens[next]?.kind === 'paren') next++;
      out.push(pair);
      i = next;
      continue;
    }
    if (t.kind === 'lbrack') {
      const v = valueAt(tokens, i);
      if (v && v.value !== undefined && v.total !== undefined) {
        out.push({ kind: 'progress', n: v.value, total: v.total });
        i = v.next;
        continue;
      }
      if (v && v.value !== undefined) {
        out.push({ kind: 'round', n: v.value });
        i = v.next;
        continue;
      }
    }
    if (t.kind === 'frac' && tokens[i + 1]?.kind === 'word' && /^(?:batch(?:es)?|steps?|iters?)$/i.test(tokens[i + 1]!.text)) {
      out.push({ kind: 'progress', n: t.value, total: t.total });
      i += 2;
      continue;
    }
    if (i === 0 && t.kind === 'num' && Number.isSafeInteger(t.value) && t.unit === '' && tokens[1]?.kind === 'colon') {
      // CatBoost's `0:\tlearn: 0.68`: the iteration, then its metrics.
      out.push({ kind: 'round', n: t.value });
      i += 2;
      continue;
    }
    if (t.kind === 'quote') {
      out.push({ kind: 'quote' });
      i++;
      continue;
    }
    const kind = t.kind === 'delim' || t.kind === 'rbrack' || t.kind === 'colon' ? 'delim' : t.kind === 'num' || t.kind === 'frac' ? 'value' : 'other';
    out.push({ kind, text: t.text });
    i++;
  }
  // A pair followed by prose or a stray token (not a delimiter, not another pair), or right after
  // a quoted string (`'val_loss' reached 0.198`), is part of a sentence.
  for (let n = 0; n < out.length; n++) {
    const item = out[n]!;
    if (item.kind !== 'pair') continue;
    const following = out[n + 1]?.kind;
    if (following === 'prose' || following === 'label' || following === 'other' || following === 'value' || out[n - 1]?.kind === 'quote') item.trailed = true;
  }
  return out;
}

// ── names and steps ──────────────────────────────────────────────────────────

const STEP_WORDS = new Set(['step', 'global_step', 'iter', 'iteration', 'num_updates', 'episode']);
const PHASES = new Set(['train', 'training', 'val', 'valid', 'validation', 'test', 'testing', 'eval', 'evaluation', 'dev']);
/** Names that are never metrics: ETA and elapsed time, Lightning's logger version. */
const NOT_METRICS = new Set(['eta', 'remaining', 'elapsed', 'v_num', 'remaining_time', 'elapsed_time']);
/** Parts of a name that make a lone pair a metric (`Test accuracy: 0.98`) where a setting (`lr: 0.001`) is not. */
const METRIC_WORDS =
  /^(?:\w*loss|acc|accuracy|err|error|f1|auc|prec|precision|recall|r?mse|mae|ppl|perplexity|bleu|rouge\w*|iou|map\d*|dice|score|nll|ndcg|wer|cer|reward|r2|top\d+|acc\d+|mfu|gnorm|grad_norm|metric)$/;
export const isMetricName = (name: string) => name.split(/[\s_./@-]+/).some((part) => METRIC_WORDS.test(part));

const isStepWord = (word: string) => STEP_WORDS.has(word.toLowerCase()) || word.toLowerCase() === 'epoch' || word.toLowerCase() === 'batch';

/**
 * A metric name as written, made into a key: lower case, a possessive `'s ` becomes `/`
 * (LightGBM's `valid_0's l2` → `valid_0/l2`), abbreviation dots go (`Avg. loss` → `avg_loss`),
 * spaces become `_` (`Train Acc` → `train_acc`), other apostrophes go.
 */
export function normaliseName(words: readonly string[]): string {
  return words
    .join(' ')
    .toLowerCase()
    .replace(/'s(?= |$)/g, '/')
    .replace(/'/g, '')
    .replace(/\.(?= |$)/g, '')
    .replace(/\/ /g, '/')
    .trim()
    .replace(/\s+/g, '_');
}

interface LineSteps {
  step?: number;
  epoch?: number;
  batch?: { n: number; total: number };
  round?: number;
}

function stepOf(s: LineSteps): number | undefined {
  if (s.step !== undefined) return s.step;
  if (s.batch && s.epoch !== undefined) return s.epoch * s.batch.total + s.batch.n;
  return s.batch?.n ?? s.epoch ?? s.round;
}

/**
 * Reads the pairs of a run of items into values and steps. `allowPrefix`: labels and prose before
 * the first metric may name its phase (not in a bar's tail). Returns whether a name was a known
 * metric word and whether the items were only `key=value` pairs.
 */
function collect(list: Item[], out: Map<string, number>, steps: LineSteps, allowPrefix: boolean): { known: boolean; onlyKeyValue: boolean } {
  let phase: string | undefined;
  let known = false;
  let onlyKeyValue = true;
  let seenMetric = false;
  for (let n = 0; n < list.length; n++) {
    const item = list[n]!;
    if (item.kind === 'round') {
      if (!seenMetric && Number.isSafeInteger(item.n)) steps.round ??= item.n;
      onlyKeyValue = false;
      continue;
    }
    if (item.kind === 'progress') {
      // DCGAN's `[1/25][50/782]`: the epoch, then the batch.
      if (!seenMetric && steps.batch && steps.epoch === undefined) {
        steps.epoch = steps.batch.n;
        steps.batch = { n: item.n, total: item.total };
      } else if (!seenMetric) {
        steps.batch ??= { n: item.n, total: item.total };
      }
      onlyKeyValue = false;
      continue;
    }
    if (item.kind === 'quote') {
      onlyKeyValue = false;
      continue;
    }
    if (item.kind === 'label' || item.kind === 'prose') {
      if (!seenMetric && allowPrefix) phase ??= phaseOf(item.words[0]!, item.kind === 'label' || n === 0 || list[n - 1]!.kind === 'delim');
      onlyKeyValue = false;
      continue;
    }
    if (item.kind !== 'pair') {
      if (item.kind !== 'delim') onlyKeyValue = false;
      continue;
    }
    let words = item.words;
    // `INFO Epoch 3`: a log level is not part of a name.
    while (words.length > 1 && LOG_LEVELS.has(words[0]!.toLowerCase())) words = words.slice(1);
    const last = words[words.length - 1]!.toLowerCase();
    if (item.sep !== '=' || words.length > 1) onlyKeyValue = false;
    if (item.trailed) {
      onlyKeyValue = false;
      continue;
    }
    if (last === 'epoch' || STEP_WORDS.has(last) || last === 'batch') {
      if (item.value === undefined || !Number.isSafeInteger(item.value)) continue;
      if (!seenMetric) phase ??= phaseOf(words[0]!, true) ?? (item.label === undefined ? undefined : phaseOf(item.label, true));
      if (last === 'epoch') {
        steps.epoch ??= item.value;
        if (item.batch) steps.batch ??= item.batch;
      } else if (last === 'batch' && item.total !== undefined) {
        steps.batch ??= { n: item.value, total: item.total };
      } else if (steps.step === undefined) {
        steps.step = item.total !== undefined && steps.epoch !== undefined ? steps.epoch * item.total + item.value : item.value;
      }
      continue;
    }
    if (item.batch && item.value !== undefined && Number.isSafeInteger(item.value) && !isMetricName(normaliseName(words))) {
      // `Train: 0 [ 100/1251 (8%)]`: a label, its epoch and the batch.
      if (!seenMetric) phase ??= phaseOf(words[0]!, true);
      steps.epoch ??= item.value;
      steps.batch ??= item.batch;
      continue;
    }
    if (item.sep === '=') words = words.slice(-1);
    if (item.batch) steps.batch ??= item.batch;
    // `to 0.2`, `number of positive: 500`: prose. An identifier before `=` (`a=1`) is a name whatever it spells.
    if (words.length > MAX_NAME_WORDS || (item.sep !== '=' && words.some((w) => STOP_WORDS.has(w.toLowerCase())))) {
      onlyKeyValue = false;
      continue;
    }
    if (item.value === undefined) continue;
    const name = normaliseName(words);
    if (NOT_METRICS.has(name) || (name === 'total' && item.unit === 'time')) continue;
    const value = item.total !== undefined ? item.value / item.total : item.value;
    seenMetric = true;
    known ||= isMetricName(name);
    out.set(phase === undefined ? name : `${phase}/${name}`, value);
  }
  return { known, onlyKeyValue };
}

/** A word that names the phase of what follows: `Test: [0/390]`, `| valid |`, `Train Epoch: 1`. */
function phaseOf(word: string, standsAlone: boolean): string | undefined {
  const lower = word.toLowerCase();
  return standsAlone && PHASES.has(lower) ? lower : undefined;
}

// ── the line ─────────────────────────────────────────────────────────────────

/** The pairs of a visible line (no ANSI codes, trimmed). `released`: the line is a progress bar's last drawing. */
export function readTextLine(line: string, released: boolean, switches: TextReaderSwitches): TextMetrics | typeof GARBLED | undefined {
  if (!/\d|nan|inf/i.test(line)) return undefined;
  const bar = splitProgressBar(line);
  if (bar) return switches.progress ? readProgressBar(bar.desc, bar.tail, bar.complete || released) : undefined;
  if (!switches.pairs) return undefined;
  const list = items(tokenize(line));
  const values = new Map<string, number>();
  const steps: LineSteps = {};
  const { known, onlyKeyValue } = collect(list, values, steps, true);
  const step = stepOf(steps);
  if (values.size === 0) {
    if (onlyKeyValue && list.some((item) => item.kind === 'pair' && item.garbled)) return GARBLED;
    return undefined;
  }
  // A lone `name: value` without a step or a metric word is a setting (`lr: 0.001`), not a metric.
  if (!known && !onlyKeyValue && step === undefined) return undefined;
  return { reader: 'pairs', values, step };
}

/** Bars count once, complete or as the last drawing; their rates and times are not metrics. */
function readProgressBar(desc: string, tail: string, counts: boolean): TextMetrics | undefined {
  if (!counts) return undefined;
  const steps: LineSteps = {};
  const fromDesc = new Map<string, number>();
  const { known } = collect(items(tokenize(desc.replace(/:\s*$/, ''))), fromDesc, steps, true);
  const values = new Map<string, number>();
  // A description like `model.safetensors: 100%` names a file, not a metric.
  if (known) for (const [key, value] of fromDesc) values.set(key, value);
  collect(items(tokenize(tail.replace(/^\s*\[/, '').replace(/\]\s*$/, ''))), values, steps, false);
  if (values.size === 0) return undefined;
  return { reader: 'progress', values, step: stepOf(steps) };
}

/** The step a prefix states (`epoch 0:` before an object), if any. */
export function readPrefix(text: string): number | undefined {
  const steps: LineSteps = {};
  collect(items(tokenize(text)), new Map(), steps, true);
  return stepOf(steps);
}
