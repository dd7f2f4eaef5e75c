import { open } from 'node:fs/promises';
import { readRegularText } from '../io/boundedRead.ts';
import { FileTail } from '../io/tail.ts';
import { CLIENT_PRIORITY, CONSOLE_PRIORITY, FILE_PRIORITY, type MetricBatcher } from './batcher.ts';
import { collectNumbers, isRecord, LineReader, MAX_LINE_LENGTH, parseLenientJson, parseNumber, StepCounter, type ReaderSwitches } from './lineParser.ts';
import { MAX_WHOLE_FILE_BYTES } from './runFolder.ts';
import type { SourceLines } from './sourceLines.ts';

/** Metric lines of the process's stdout and stderr (see LineReader for the formats). */
export class ConsoleSource {
  private readonly batcher: MetricBatcher;
  private readonly reader: LineReader;

  constructor(batcher: MetricBatcher, regex: RegExp | string | undefined, readers: ReaderSwitches | undefined) {
    this.batcher = batcher;
    this.reader = new LineReader({ regex, readers, onNewKey: (key) => batcher.claim(key, CONSOLE_PRIORITY) });
    // Which reader read each metric line is stored with the points, in the same transaction.
    batcher.countReaders(() => this.reader.takeCounts());
  }

  line(line: string, overlong: boolean, wall: number): void {
    const points = this.batcher.points(CONSOLE_PRIORITY);
    const before = points.length;
    if (overlong || this.reader.read(line, wall, points) === 'malformed') this.batcher.malformed();
    this.batcher.added(points.length - before);
  }
}

/** Records of metrics.jsonl: the client's `{"step": 3, "wall": 1730000000123, "metrics": {"loss": 0.2}}`, or plain objects. */
export class ClientMetricsSource {
  private readonly batcher: MetricBatcher;
  private readonly plainReader: LineReader;
  private readonly keys = new Set<string>();

  constructor(batcher: MetricBatcher) {
    this.batcher = batcher;
    this.plainReader = new LineReader({ onNewKey: (key) => batcher.claim(key, CLIENT_PRIORITY) });
  }

  line(line: string, overlong: boolean): void {
    if (overlong) return this.batcher.malformed();
    if (line.trim() === '') return;
    const record = parseLenientJson(line);
    const points = this.batcher.points(CLIENT_PRIORITY);
    if (isRecord(record) && !('metrics' in record)) {
      // A metrics.jsonl the user's own code writes: plain `{"loss": 0.2, "step": 3}` objects,
      // read like JSON lines on the console.
      const before = points.length;
      if (this.plainReader.read(line, Date.now(), points) === 'malformed') this.batcher.malformed();
      this.batcher.added(points.length - before);
      return;
    }
    if (!isRecord(record) || !isRecord(record.metrics) || !Number.isSafeInteger(record.step)) return this.batcher.malformed();
    const step = record.step as number;
    const wall = typeof record.wall === 'number' && Number.isFinite(record.wall) ? Math.round(record.wall) : Date.now();
    let added = 0;
    for (const key in record.metrics) {
      const value = record.metrics[key];
      if (typeof value === 'number') {
        if (!this.keys.has(key)) {
          this.keys.add(key);
          this.batcher.claim(key, CLIENT_PRIORITY);
        }
        points.push({ key, step, value, wall });
        added++;
      }
    }
    this.batcher.added(added);
  }
}

/**
 * CSV files of the run folder. One with an `epoch` or `step` column is a metric log (Keras and
 * Lightning CSVLogger): one row per record, blank cells absent. Any other CSV is data.
 */
export class CsvLogs {
  private readonly batcher: MetricBatcher;
  private readonly track: (path: string, bytes: () => number) => SourceLines;
  private readonly files = new Map<string, FileTail | 'data'>();

  /** `track`: counts a metric log's lines for its checkpoint (see SourceLines). */
  constructor(batcher: MetricBatcher, track: (path: string, bytes: () => number) => SourceLines) {
    this.batcher = batcher;
    this.track = track;
  }

  /** Reads what is new in a metric log; 'data' for any other CSV (an artifact), 'waiting' while its header line is incomplete. */
  async read(path: string, final: boolean): Promise<'metrics' | 'data' | 'waiting'> {
    let state = this.files.get(path);
    if (state === undefined) {
      const header = await firstLine(path, final);
      if (header === undefined) return 'waiting';
      const columns = splitCsvRow(header);
      state = columns.includes('epoch') || columns.includes('step') ? this.metricLog(path) : 'data';
      this.files.set(path, state);
    }
    if (state === 'data') return 'data';
    await state.read(final);
    return 'metrics';
  }

  private metricLog(path: string): FileTail {
    const batcher = this.batcher;
    const claim = (key: string) => batcher.claim(key, FILE_PRIORITY);
    let names: string[] | undefined;
    let steps = new StepCounter(claim);
    const handle = (line: string, overlong: boolean): void => {
      if (overlong) return batcher.malformed();
      if (names === undefined) return void (names = splitCsvRow(line));
      if (line.trim() === '') return;
      const cells = splitCsvRow(line);
      if (cells.length > names.length) return batcher.malformed();
      const values = new Map<string, number>();
      cells.forEach((cell, i) => {
        const number = cell === '' ? undefined : parseNumber(cell);
        if (number !== undefined) values.set(names![i]!, number);
      });
      batcher.added(steps.points(values, Date.now(), batcher.points(FILE_PRIORITY)));
    };
    const lines = this.track(path, () => tail.offset);
    const tail = new FileTail(path, {
      maxLineLength: MAX_LINE_LENGTH,
      onLine: lines.wrap(handle),
      onRestart: () => {
        lines.restart();
        names = undefined;
        steps = new StepCounter(claim);
      },
    });
    return tail;
  }
}

/** Hugging Face rewrites trainer_state.json whole; its log_history entries carry their global step. */
export async function readTrainerState(path: string, final: boolean, batcher: MetricBatcher): Promise<void> {
  const state = parseLenientJson(await readRegularText(path, MAX_WHOLE_FILE_BYTES));
  if (!isRecord(state) || !Array.isArray(state.log_history)) {
    // Usually caught mid-write: the next change event reads it again.
    if (final) batcher.malformed();
    return;
  }
  const steps = new StepCounter((key) => batcher.claim(key, FILE_PRIORITY));
  const wall = Date.now();
  for (const entry of state.log_history) {
    if (!isRecord(entry)) continue;
    const values = new Map<string, number>();
    collectNumbers(entry, '', values, 0);
    batcher.added(steps.points(values, wall, batcher.points(FILE_PRIORITY)));
  }
}

/**
 * A JSON object file the client rewrites whole (params.json, tags.json): applied when its text
 * changed since the last read. A half-written one is read again at its next change.
 */
export class JsonObjectFiles {
  private readonly batcher: MetricBatcher;
  private readonly texts = new Map<string, string>();

  constructor(batcher: MetricBatcher) {
    this.batcher = batcher;
  }

  async read(path: string, final: boolean, apply: (value: Record<string, unknown>) => void): Promise<void> {
    const text = await readRegularText(path, MAX_WHOLE_FILE_BYTES);
    if (this.texts.get(path) === text) return;
    const value = parseLenientJson(text);
    if (!isRecord(value)) {
      if (final) this.batcher.malformed();
      return;
    }
    this.texts.set(path, text);
    apply(value);
  }
}

/** The first line of a file, or undefined while it has none (the whole text when `final`). */
async function firstLine(path: string, final: boolean): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_LINE_LENGTH);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const end = buffer.subarray(0, bytesRead).indexOf(10);
    if (end < 0 && !final) return undefined;
    return buffer.toString('utf8', 0, end < 0 ? bytesRead : end);
  } finally {
    await handle.close();
  }
}

/** One CSV row: comma separated, double-quoted cells may hold commas and `""`; cells trimmed. */
export function splitCsvRow(line: string): string[] {
  const text = line.replace(/^\uFEFF/, '').replace(/\r$/, '');
  if (!text.includes('"')) return text.split(',').map((cell) => cell.trim());
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  return cells;
}
