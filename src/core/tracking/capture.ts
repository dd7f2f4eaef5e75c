import { watch, type FSWatcher } from 'chokidar';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { storageProblem } from '../errors.ts';
import type { Disposable } from '../events.ts';
import type { Store } from '../store/store.ts';
import { ARTIFACT_KINDS, type ArtifactKind, type MetricPoint } from '../store/types.ts';
import {
  collectNumbers,
  isRecord,
  LineReader,
  MAX_LINE_LENGTH,
  parseLenientJson,
  parseNumber,
  StepCounter,
  type ReaderSwitches,
} from './lineParser.ts';
import { ProgressFolding } from './progressBars.ts';

export interface RunCaptureOptions {
  runId: number;
  /** The run's output folder: logs are written here, and files appearing here are ingested. */
  runDir: string;
  /** A user pattern for metric lines (see LineReader). */
  regex?: RegExp | string;
  /** Built-in line readers switched off (a profile's `readers`). */
  readers?: ReaderSwitches;
  /** False reads the folder once, in close(), instead of watching it (importing a finished run). */
  watch?: boolean;
}

/** Files the Python client writes at the top of the run folder (see src/python/runboard). */
export const CLIENT_FILES = {
  metrics: 'metrics.jsonl',
  params: 'params.json',
  tags: 'tags.json',
  artifactKinds: 'artifacts.jsonl',
  run: 'run.json',
} as const;
export const LOG_FILES = { stdout: 'stdout.log', stderr: 'stderr.log' } as const;

const FLUSH_INTERVAL_MS = 100;
const FLUSH_POINTS = 10_000;
/** Points kept in memory while the store refuses writes (a full disk); past this, capture fails. */
const MAX_UNSAVED_POINTS = 2_000_000;
const RETRY_INTERVAL_MS = 1000;
/** How many flushes console points may wait for the client's file to be read (see flush). */
const MAX_DEFERRALS = 20;
const MAX_DEFERRED_POINTS = 500_000;
/** An artifact is recorded once it has not changed for this long (or at close). */
const ARTIFACT_STABLE_MS = 500;
const READ_CHUNK = 4 * 1024 * 1024;
const LOG_BUFFER_BYTES = 1024 * 1024;
/** Bytes compared at the start of a tailed file to notice it was rewritten rather than appended to. */
const HEAD_BYTES = 256;

/**
 * When two sources give the same metric key, the higher one owns it and the lower one's points
 * for it are dropped, so a series never mixes two step schemes. The client's explicit steps win;
 * console lines beat files (Hugging Face prints log dicts live with counted steps, while its
 * trainer_state.json appears only at checkpoints, with global steps).
 */
const FILE_PRIORITY = 1;
const CONSOLE_PRIORITY = 2;
const CLIENT_PRIORITY = 3;

const KIND_BY_EXTENSION: Record<string, ArtifactKind> = Object.fromEntries([
  ...['.pkl', '.joblib', '.pt', '.pth', '.onnx', '.safetensors', '.h5', '.keras', '.ckpt'].map((e) => [e, 'model']),
  ...['.png', '.jpg', '.jpeg', '.svg', '.pdf'].map((e) => [e, 'plot']),
  ...['.csv', '.parquet', '.npy', '.npz', '.json', '.jsonl', '.tsv'].map((e) => [e, 'data']),
]);

export function artifactKind(path: string): ArtifactKind {
  return KIND_BY_EXTENSION[extname(path).toLowerCase()] ?? 'other';
}

type FileRole = 'ignored' | 'clientMetrics' | 'params' | 'tags' | 'artifactKinds' | 'trainerState' | 'csv' | 'artifact';

/** What a file of the run folder is, from its posix path relative to the folder. */
function fileRole(rel: string): FileRole {
  const parts = rel.split('/');
  // Dotfiles are temporary (the client writes `.name.tmp` then renames) or tool state.
  if (parts.some((p) => p.startsWith('.') || p === '__pycache__')) return 'ignored';
  const name = parts[parts.length - 1]!;
  if (parts.length === 1) {
    if (name === LOG_FILES.stdout || name === LOG_FILES.stderr || name === CLIENT_FILES.run) return 'ignored';
    if (name === CLIENT_FILES.metrics) return 'clientMetrics';
    if (name === CLIENT_FILES.params) return 'params';
    if (name === CLIENT_FILES.tags) return 'tags';
    if (name === CLIENT_FILES.artifactKinds) return 'artifactKinds';
  }
  if (name === 'trainer_state.json') return 'trainerState';
  if (extname(name).toLowerCase() === '.csv') return 'csv';
  return 'artifact';
}

/**
 * Splits a byte stream into lines without ever holding more than MAX_LINE_LENGTH characters of
 * one: the rest of an over-long line is skipped and the line reported as `overlong`. Invalid
 * UTF-8 decodes to U+FFFD, `\r\n` is left to the parser.
 */
class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private overlong = false;

  push(chunk: Buffer, onLine: (line: string, overlong: boolean) => void): void {
    this.split(this.decoder.write(chunk), onLine);
  }

  end(onLine: (line: string, overlong: boolean) => void): void {
    this.split(this.decoder.end(), onLine);
    if (this.partial || this.overlong) onLine(this.partial, this.overlong);
    this.reset();
  }

  reset(): void {
    this.decoder = new StringDecoder('utf8');
    this.partial = '';
    this.overlong = false;
  }

  private split(text: string, onLine: (line: string, overlong: boolean) => void): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (this.overlong || this.partial.length + nl - start > MAX_LINE_LENGTH) onLine('', true);
      else onLine(this.partial ? this.partial + text.slice(start, nl) : text.slice(start, nl), false);
      this.partial = '';
      this.overlong = false;
      start = nl + 1;
    }
    if (start === text.length || this.overlong) return;
    if (this.partial.length + text.length - start > MAX_LINE_LENGTH) {
      this.partial = '';
      this.overlong = true;
    } else {
      this.partial += text.slice(start);
    }
  }
}

/**
 * Follows a file that grows by appends, from a byte offset. A file that shrank, was replaced
 * (new inode) or whose first bytes changed was rewritten: it is read again from the start
 * (re-sent points are duplicates the store ignores).
 */
class Tail {
  /** Bytes read so far. */
  offset = 0;
  private inode = -1;
  private head = Buffer.alloc(0);
  private readonly splitter = new LineSplitter();
  private readonly path: string;
  private readonly onLine: (line: string, overlong: boolean) => void;
  private readonly onRestart: () => void;

  constructor(path: string, onLine: (line: string, overlong: boolean) => void, onRestart: () => void) {
    this.path = path;
    this.onLine = onLine;
    this.onRestart = onRestart;
  }

  async read(final: boolean): Promise<void> {
    const handle = await open(this.path, 'r');
    try {
      const info = await handle.stat();
      if (info.ino !== this.inode || info.size < this.offset || !(await this.sameHead(handle))) {
        this.inode = info.ino;
        this.offset = 0;
        this.head = Buffer.alloc(0);
        this.splitter.reset();
        this.onRestart();
      }
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, info.size - this.offset)));
      while (this.offset < info.size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, info.size - this.offset), this.offset);
        if (bytesRead === 0) break;
        if (this.head.length < HEAD_BYTES && this.offset < HEAD_BYTES) {
          this.head = Buffer.concat([this.head, buffer.subarray(0, Math.min(bytesRead, HEAD_BYTES - this.offset))]);
        }
        this.offset += bytesRead;
        this.splitter.push(buffer.subarray(0, bytesRead), this.onLine);
      }
      if (final) this.splitter.end(this.onLine);
    } finally {
      await handle.close();
    }
  }

  private async sameHead(handle: Awaited<ReturnType<typeof open>>): Promise<boolean> {
    if (this.head.length === 0) return true;
    const current = Buffer.alloc(this.head.length);
    const { bytesRead } = await handle.read(current, 0, current.length, 0);
    return bytesRead === this.head.length && current.equals(this.head);
  }
}

/**
 * One console stream: its log file (raw bytes) and its line splitter. Output is written in
 * batches (at each flush): every write to the run folder wakes its watcher, which re-lists it.
 */
class ConsoleStream {
  private fd: number | undefined;
  private failedToWrite = false;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  readonly splitter = new ProgressFolding(new LineSplitter());
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  write(chunk: Buffer): void {
    if (this.failedToWrite) return;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes >= LOG_BUFFER_BYTES) this.flush();
  }

  flush(): void {
    if (this.bufferedBytes === 0) return;
    const data = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    try {
      this.fd ??= openSync(this.file, 'a');
      for (let offset = 0; offset < data.length; ) offset += writeSync(this.fd, data, offset);
    } catch {
      // A full disk must not stop metric capture; the log simply stops growing.
      this.failedToWrite = true;
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

interface CsvState {
  tail: Tail;
}

/**
 * Captures one run: the process's stdout/stderr (logged to `stdout.log`/`stderr.log` and parsed
 * for metric lines) and the files it writes to its run folder (the Python client's files, CSV
 * loggers, Hugging Face trainer_state.json, and every other file as an artifact). Points are
 * batched into one store transaction per flush.
 */
export class RunCapture implements Disposable {
  private readonly store: Store;
  private readonly runId: number;
  private readonly runDir: string;
  private readonly consoleReader: LineReader;
  private readonly plainJsonlReader: LineReader;
  private readonly out: ConsoleStream;
  private readonly err: ConsoleStream;
  private readonly watcher: FSWatcher | undefined;

  /** Points waiting for the next flush, by source priority. */
  private readonly pending: MetricPoint[][] = [[], [], [], []];
  private pendingCount = 0;
  private pendingMalformed = 0;
  private unsaved: MetricPoint[] = [];
  private unsavedMalformed = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly owner = new Map<string, number>();
  /** Per priority: whether some of its keys are owned by another source, so its points need filtering. */
  private readonly contested = [false, false, false, false];
  private readonly clientKeys = new Set<string>();
  private deferrals = 0;

  private readonly dirty = new Set<string>();
  private readonly dueArtifacts = new Set<string>();
  private readonly artifactTimers = new Map<string, NodeJS.Timeout>();
  private draining: Promise<void> | undefined;
  private readonly tails = new Map<string, Tail>();
  private readonly csvFiles = new Map<string, CsvState | 'artifact'>();
  private readonly jsonTexts = new Map<string, string>();
  private readonly recordedArtifacts = new Map<string, string>();
  private artifactKinds = new Map<string, ArtifactKind>();
  private failure: unknown;
  private closing: Promise<void> | undefined;

  constructor(store: Store, options: RunCaptureOptions) {
    this.store = store;
    this.runId = options.runId;
    this.runDir = resolve(options.runDir);
    this.consoleReader = new LineReader({ regex: options.regex, readers: options.readers, onNewKey: (key) => this.claim(key, CONSOLE_PRIORITY) });
    this.plainJsonlReader = new LineReader({ onNewKey: (key) => this.claim(key, CLIENT_PRIORITY) });
    mkdirSync(this.runDir, { recursive: true });
    this.out = new ConsoleStream(join(this.runDir, LOG_FILES.stdout));
    this.err = new ConsoleStream(join(this.runDir, LOG_FILES.stderr));
    if (options.watch !== false) {
      this.watcher = watch(this.runDir, {
        ignoreInitial: false,
        followSymlinks: false,
        ignored: (path) => this.roleOf(path) === 'ignored',
      });
      this.watcher.on('add', (path) => this.touch(path));
      this.watcher.on('change', (path) => this.touch(path));
      // Watch failures (e.g. the inotify limit) only delay ingest: close() scans the folder anyway.
      this.watcher.on('error', () => {});
    }
  }

  stdout(chunk: Buffer): void {
    this.consume(this.out, chunk);
  }

  stderr(chunk: Buffer): void {
    this.consume(this.err, chunk);
  }

  /**
   * Ends capture: parses the last partial lines, stops watching, reads every file of the run
   * folder to its end (artifacts included, stable or not) and flushes. Rejects with the first
   * error met in the background (a store failure), after finishing what it could.
   */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  dispose(): void {
    this.close().catch((err) => console.error('Runboard capture failed:', err));
  }

  // ── console ────────────────────────────────────────────────────────────────
  private consume(stream: ConsoleStream, chunk: Buffer): void {
    if (this.closing) return;
    stream.write(chunk);
    const wall = Date.now();
    stream.splitter.push(chunk, (line, overlong) => this.consoleLine(line, overlong, wall));
    this.guarded(() => this.pointsAdded(true));
  }

  private consoleLine(line: string, overlong: boolean, wall: number): void {
    const points = this.pending[CONSOLE_PRIORITY]!;
    const before = points.length;
    if (overlong || this.consoleReader.read(line, wall, points) === 'malformed') this.pendingMalformed++;
    this.pendingCount += points.length - before;
  }

  // ── batching ───────────────────────────────────────────────────────────────
  private pointsAdded(logsPending = false): void {
    if (this.pendingCount >= FLUSH_POINTS) this.flush();
    else if ((logsPending || this.pendingCount > 0 || this.pendingMalformed > 0) && !this.flushTimer) {
      this.flushTimer = setTimeout(() => this.guarded(() => this.flush()), FLUSH_INTERVAL_MS);
    }
  }

  private flush(final = false): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.out.flush();
    this.err.flush();
    if (this.pendingCount === 0 && this.pendingMalformed === 0 && this.unsaved.length === 0) return;
    if (!final && this.clientFileUnread()) {
      // The client writes its record before the script prints the same value, so waiting for the
      // file to be read lets the client claim its keys before console points for them are stored.
      this.deferrals++;
      this.touch(join(this.runDir, CLIENT_FILES.metrics));
      this.flushTimer = setTimeout(() => this.guarded(() => this.flush()), FLUSH_INTERVAL_MS / 10);
      return;
    }
    this.deferrals = 0;
    let batch: MetricPoint[] = [];
    for (let priority = FILE_PRIORITY; priority <= CLIENT_PRIORITY; priority++) {
      const points = this.pending[priority]!;
      if (this.contested[priority]) {
        for (const point of points) if (this.owner.get(point.key) === priority) batch.push(point);
      } else if (points.length > 0) {
        batch = batch.length === 0 ? points : batch.concat(points);
      }
      this.pending[priority] = [];
    }
    let malformed = this.pendingMalformed;
    this.pendingCount = 0;
    this.pendingMalformed = 0;
    if (this.unsaved.length > 0 || this.unsavedMalformed > 0) {
      batch = this.unsaved.concat(batch);
      malformed += this.unsavedMalformed;
      this.unsaved = [];
      this.unsavedMalformed = 0;
    }
    try {
      this.store.transaction(() => {
        this.store.logMetrics(this.runId, batch);
        this.store.addMalformed(this.runId, malformed);
        this.store.captureReaders.add(this.runId, this.consoleReader.takeCounts());
      });
    } catch (err) {
      // A full disk or a database locked by another process can pass: the batch rolled back as a
      // whole, so it is kept (within a bound) and written with the next flush; nothing is lost.
      if (storageProblem(err) === undefined || batch.length > MAX_UNSAVED_POINTS) throw err;
      this.unsaved = batch;
      this.unsavedMalformed = malformed;
      if (final) {
        throw Object.assign(new Error(`${batch.length} metric points could not be stored: ${(err as Error).message}`), { code: (err as { code?: string }).code });
      }
      this.flushTimer = setTimeout(() => this.guarded(() => this.flush()), RETRY_INTERVAL_MS);
    }
  }

  /** A source of this priority produces `key`: the highest such source owns it (see FILE_PRIORITY). */
  private claim(key: string, priority: number): void {
    const owner = this.owner.get(key) ?? 0;
    if (priority > owner) {
      this.owner.set(key, priority);
      if (owner > 0) this.contested[owner] = true;
    } else if (priority < owner) {
      this.contested[priority] = true;
    }
  }

  private clientFileUnread(): boolean {
    if (this.pending[CONSOLE_PRIORITY]!.length === 0 || this.deferrals >= MAX_DEFERRALS || this.pendingCount >= MAX_DEFERRED_POINTS) return false;
    const path = join(this.runDir, CLIENT_FILES.metrics);
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    const read = this.tails.get(path)?.offset ?? 0;
    return size > read;
  }

  // ── run folder ─────────────────────────────────────────────────────────────
  private rel(path: string): string {
    return relative(this.runDir, path).split(sep).join('/');
  }

  private roleOf(path: string): FileRole {
    const rel = this.rel(path);
    return rel === '' ? 'artifact' : fileRole(rel);
  }

  private touch(path: string): void {
    if (this.closing) return;
    this.dirty.add(path);
    this.kick();
  }

  private kick(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (!this.closing && (this.dirty.size > 0 || this.dueArtifacts.size > 0)) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (!this.closing && (this.dirty.size > 0 || this.dueArtifacts.size > 0)) {
      const [path] = this.dirty;
      if (path !== undefined) {
        this.dirty.delete(path);
        await this.guardedAsync(() => this.process(path, false));
        continue;
      }
      const [artifact] = this.dueArtifacts;
      this.dueArtifacts.delete(artifact!);
      await this.guardedAsync(() => this.recordArtifact(artifact!, false));
    }
  }

  /** Ingests what is new in one file. `final`: the writer is done, so partial lines count. */
  private async process(path: string, final: boolean): Promise<void> {
    switch (this.roleOf(path)) {
      case 'ignored':
        return;
      case 'clientMetrics':
        await this.tail(path, (line, overlong) => this.clientLine(line, overlong), () => {}).read(final);
        break;
      case 'csv':
        await this.processCsv(path, final);
        break;
      case 'trainerState':
        await this.readTrainerState(path, final);
        break;
      case 'params':
        await this.readJsonObject(path, final, (params) => this.store.setParams(this.runId, params));
        return;
      case 'tags':
        await this.readJsonObject(path, final, (tags) => this.store.setTags(this.runId, tags));
        return;
      case 'artifactKinds':
        await this.readArtifactKinds();
        return;
      case 'artifact':
        if (final) await this.recordArtifact(path, true);
        else this.artifactChanged(path);
        return;
    }
    this.pointsAdded();
  }

  private tail(path: string, onLine: (line: string, overlong: boolean) => void, onRestart: () => void): Tail {
    let tail = this.tails.get(path);
    if (!tail) this.tails.set(path, (tail = new Tail(path, onLine, onRestart)));
    return tail;
  }

  /** A metrics.jsonl record: the client's `{"step": 3, "wall": 1730000000123, "metrics": {"loss": 0.2}}`, or a plain object. */
  private clientLine(line: string, overlong: boolean): void {
    if (overlong) return void this.pendingMalformed++;
    if (line.trim() === '') return;
    const record = parseLenientJson(line);
    if (isRecord(record) && !('metrics' in record)) {
      // A metrics.jsonl the user's own code writes: plain `{"loss": 0.2, "step": 3}` objects,
      // read like JSON lines on the console.
      const points = this.pending[CLIENT_PRIORITY]!;
      const before = points.length;
      if (this.plainJsonlReader.read(line, Date.now(), points) === 'malformed') this.pendingMalformed++;
      this.pendingCount += points.length - before;
      return;
    }
    if (!isRecord(record) || !isRecord(record.metrics) || !Number.isSafeInteger(record.step)) {
      this.pendingMalformed++;
      return;
    }
    const step = record.step as number;
    const wall = typeof record.wall === 'number' && Number.isFinite(record.wall) ? Math.round(record.wall) : Date.now();
    const points = this.pending[CLIENT_PRIORITY]!;
    for (const key in record.metrics) {
      const value = record.metrics[key];
      if (typeof value === 'number') {
        if (!this.clientKeys.has(key)) {
          this.clientKeys.add(key);
          this.claim(key, CLIENT_PRIORITY);
        }
        points.push({ key, step, value, wall });
        this.pendingCount++;
      }
    }
  }

  /**
   * A CSV with an `epoch` or `step` column is a metric log (Keras and Lightning CSVLogger): one
   * row per record, blank cells absent. Any other CSV is data, so an artifact.
   */
  private async processCsv(path: string, final: boolean): Promise<void> {
    let state = this.csvFiles.get(path);
    if (state === undefined) {
      const header = await firstLine(path, final);
      if (header === undefined) return;
      const columns = splitCsvRow(header);
      if (columns.includes('epoch') || columns.includes('step')) {
        let names: string[] | undefined;
        const claim = (key: string) => this.claim(key, FILE_PRIORITY);
        let steps = new StepCounter(claim);
        const tail = new Tail(
          path,
          (line, overlong) => {
            if (overlong) return void this.pendingMalformed++;
            if (names === undefined) return void (names = splitCsvRow(line));
            if (line.trim() === '') return;
            const cells = splitCsvRow(line);
            if (cells.length > names.length) return void this.pendingMalformed++;
            const values = new Map<string, number>();
            cells.forEach((cell, i) => {
              const number = cell === '' ? undefined : parseNumber(cell);
              if (number !== undefined) values.set(names![i]!, number);
            });
            this.pendingCount += steps.points(values, Date.now(), this.pending[FILE_PRIORITY]!);
          },
          () => {
            names = undefined;
            steps = new StepCounter(claim);
          },
        );
        state = { tail };
      } else {
        state = 'artifact';
      }
      this.csvFiles.set(path, state);
    }
    if (state === 'artifact') {
      if (final) await this.recordArtifact(path, true);
      else this.artifactChanged(path);
    } else {
      await state.tail.read(final);
    }
  }

  /** Hugging Face rewrites trainer_state.json whole; its log_history entries carry their global step. */
  private async readTrainerState(path: string, final: boolean): Promise<void> {
    const state = parseLenientJson(await readFile(path, 'utf8'));
    if (!isRecord(state) || !Array.isArray(state.log_history)) {
      // Usually caught mid-write: the next change event reads it again.
      if (final) this.pendingMalformed++;
      return;
    }
    const steps = new StepCounter((key) => this.claim(key, FILE_PRIORITY));
    const wall = Date.now();
    for (const entry of state.log_history) {
      if (!isRecord(entry)) continue;
      const values = new Map<string, number>();
      collectNumbers(entry, '', values, 0);
      this.pendingCount += steps.points(values, wall, this.pending[FILE_PRIORITY]!);
    }
  }

  private async readJsonObject(path: string, final: boolean, apply: (value: Record<string, unknown>) => void): Promise<void> {
    const text = await readFile(path, 'utf8');
    if (this.jsonTexts.get(path) === text) return;
    const value = parseLenientJson(text);
    if (!isRecord(value)) {
      if (final) this.pendingMalformed++;
      return;
    }
    this.jsonTexts.set(path, text);
    apply(value);
  }

  /** The client's sidecar: one `{"path": "artifacts/model.bin", "kind": "model"}` per line; the last line for a path wins. */
  private async readArtifactKinds(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.runDir, CLIENT_FILES.artifactKinds), 'utf8');
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    const kinds = new Map<string, ArtifactKind>();
    for (const line of text.split('\n')) {
      const entry = line.trim() ? parseLenientJson(line) : undefined;
      if (isRecord(entry) && typeof entry.path === 'string' && ARTIFACT_KINDS.includes(entry.kind as ArtifactKind)) {
        kinds.set(entry.path, entry.kind as ArtifactKind);
      }
    }
    this.artifactKinds = kinds;
  }

  private artifactChanged(path: string): void {
    clearTimeout(this.artifactTimers.get(path));
    this.artifactTimers.set(
      path,
      setTimeout(() => {
        this.artifactTimers.delete(path);
        this.dueArtifacts.add(path);
        this.kick();
      }, ARTIFACT_STABLE_MS),
    );
  }

  /** Hashes a file and records it, unless it changed while being hashed (then it is not stable yet). */
  private async recordArtifact(path: string, final: boolean): Promise<void> {
    const rel = this.rel(path);
    for (let attempt = 0; ; attempt++) {
      const before = await stat(path);
      if (!before.isFile()) return;
      const signature = `${before.size}:${before.mtimeMs}`;
      if (this.recordedArtifacts.get(rel) === signature) return;
      const sha256 = await sha256File(path);
      const after = await stat(path);
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
        if (!final) return this.artifactChanged(path);
        // Still being written at close: a few tries, then the last complete read is recorded.
        if (attempt < 2) continue;
      }
      if (rel.startsWith('artifacts/')) await this.readArtifactKinds();
      this.store.addArtifact(this.runId, { path: rel, size: before.size, sha256, kind: this.artifactKinds.get(rel) ?? artifactKind(rel) });
      this.recordedArtifacts.set(rel, signature);
      return;
    }
  }

  // ── closing ────────────────────────────────────────────────────────────────
  private async finish(): Promise<void> {
    for (const stream of [this.out, this.err]) {
      const wall = Date.now();
      stream.splitter.end((line, overlong) => this.consoleLine(line, overlong, wall));
      stream.close();
    }
    await this.watcher?.close();
    for (const timer of this.artifactTimers.values()) clearTimeout(timer);
    this.artifactTimers.clear();
    while (this.draining) await this.draining;
    await this.guardedAsync(() => this.readArtifactKinds());
    for (const path of await listFiles(this.runDir)) {
      await this.guardedAsync(() => this.process(path, true));
    }
    this.guarded(() => this.flush(true));
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Background work must not throw into timers or watcher callbacks. A file that vanished or
   * cannot be read is routine (close() reads everything again); anything else is kept for close().
   */
  private guarded(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.fail(err);
    }
  }

  private async guardedAsync(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return;
    this.failure ??= err;
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

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files under a folder, skipping dot folders and symlinks. */
async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return files;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== '__pycache__') files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

const isMissing = (err: unknown): boolean => (err as { code?: unknown }).code === 'ENOENT';
