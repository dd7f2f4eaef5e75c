import { watch, type FSWatcher } from 'chokidar';
import { mkdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import type { Disposable } from '../events.ts';
import { AppendLog } from '../io/appendLog.ts';
import { FileTail, LineSplitter } from '../io/tail.ts';
import type { IngestCheckpoint } from '../store/ingest.ts';
import type { Store } from '../store/store.ts';
import { assertLocalRun } from '../sync/readOnly.ts';
import { ArtifactStabilizer } from './artifacts.ts';
import { MetricBatcher, MLFLOW_PRIORITY } from './batcher.ts';
import { isFileError, isVanished } from './fileErrors.ts';
import { MAX_LINE_LENGTH, type ReaderSwitches } from './lineParser.ts';
import { ProgressFolding, type LineSource } from './progressBars.ts';
import { CLIENT_FILES, fileRole, listRunFiles, LOG_FILES, type FileRole } from './runFolder.ts';
import { SourceLines } from './sourceLines.ts';
import { ClientMetricsSource, ConsoleSource, CsvLogs, JsonObjectFiles, readTrainerState } from './sources.ts';

/** Bytes of a log read at a time when a resumed capture re-reads it. */
const REREAD_CHUNK = 4 * 1024 * 1024;

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
  /**
   * Resumes the capture of a recorder that died, from the checkpoints it committed: the console
   * logs are read back from the run folder instead of written, and every source's lines past its
   * checkpoint are stored. Use with `watch: false`.
   */
  resume?: ReadonlyMap<string, IngestCheckpoint>;
}

/** What a resumed capture needs of the one it resumes, as stored with its checkpoints. */
export type CaptureSettings = Pick<RunCaptureOptions, 'regex' | 'readers'>;

export function parseCaptureSettings(json: string): CaptureSettings {
  const settings = JSON.parse(json) as { regex?: string; readers?: ReaderSwitches };
  return { regex: settings.regex, readers: settings.readers };
}

/** One console stream: its raw log file (none when resumed: it is read back), its line splitter and line count. */
interface ConsoleStream {
  name: string;
  log: AppendLog | undefined;
  splitter: LineSource;
  bytes: number;
  lines: SourceLines;
}

/**
 * Captures one run: the process's stdout/stderr (logged to `stdout.log`/`stderr.log` and parsed
 * for metric lines) and the files it writes to its run folder (the Python client's files, CSV
 * loggers, Hugging Face trainer_state.json, and every other file as an artifact). This class only
 * routes: file roles are in runFolder.ts, readers in sources.ts, batching in batcher.ts and
 * artifacts in artifacts.ts.
 */
export class RunCapture implements Disposable {
  private readonly store: Store;
  private readonly runId: number;
  private readonly runDir: string;
  private readonly out: ConsoleStream;
  private readonly err: ConsoleStream;
  private readonly watcher: FSWatcher | undefined;
  private readonly batcher: MetricBatcher;
  private readonly console: ConsoleSource;
  private readonly client: ClientMetricsSource;
  private readonly clientTail: FileTail;
  private readonly csvLogs: CsvLogs;
  private readonly jsonFiles: JsonObjectFiles;
  private readonly artifacts: ArtifactStabilizer;
  private readonly resume: ReadonlyMap<string, IngestCheckpoint> | undefined;
  /** Each source read so far, by its path in the run folder: its checkpoint. */
  private readonly sources = new Map<string, SourceLines>();

  private readonly dirty = new Set<string>();
  /** Keys MLflow's client owns (see yieldToMlflow). */
  private readonly mlflowKeys = new Set<string>();
  private readonly dueArtifacts = new Set<string>();
  private draining: Promise<void> | undefined;
  private failure: unknown;
  private closing: Promise<void> | undefined;

  constructor(store: Store, options: RunCaptureOptions) {
    const run = store.run(options.runId);
    if (run) assertLocalRun(store, run);
    this.store = store;
    this.runId = options.runId;
    this.runDir = resolve(options.runDir);
    this.resume = options.resume;
    const clientFile = join(this.runDir, CLIENT_FILES.metrics);
    this.batcher = new MetricBatcher({
      store,
      runId: this.runId,
      beforeFlush: () => {
        const out = this.out.log?.flush() ?? true;
        return (this.err.log?.flush() ?? true) && out;
      },
      checkpoints: () => new Map([...this.sources].map(([source, lines]) => [source, { bytes: lines.bytes(), lines: lines.lines }])),
      clientFileUnread: () => {
        const unread = (statSync(clientFile, { throwIfNoEntry: false })?.size ?? 0) > this.clientTail.offset;
        if (unread) this.touch(clientFile);
        return unread;
      },
      onError: (err) => this.fail(err),
    });
    this.console = new ConsoleSource(this.batcher, options.regex, options.readers);
    this.client = new ClientMetricsSource(this.batcher);
    const clientLines = this.track(CLIENT_FILES.metrics, () => this.clientTail.offset);
    this.clientTail = new FileTail(clientFile, {
      maxLineLength: MAX_LINE_LENGTH,
      onLine: clientLines.wrap((line, overlong) => this.client.line(line, overlong)),
      onRestart: () => clientLines.restart(),
    });
    this.csvLogs = new CsvLogs(this.batcher, (path, bytes) => this.track(this.rel(path), bytes));
    this.jsonFiles = new JsonObjectFiles(this.batcher);
    this.artifacts = new ArtifactStabilizer({
      store,
      runId: this.runId,
      runDir: this.runDir,
      onStable: (path) => {
        this.dueArtifacts.add(path);
        this.kick();
      },
    });
    mkdirSync(this.runDir, { recursive: true });
    this.out = this.consoleStream(LOG_FILES.stdout);
    this.err = this.consoleStream(LOG_FILES.stderr);
    if (!this.resume) {
      const settings: CaptureSettings = { regex: options.regex instanceof RegExp ? options.regex.source : options.regex, readers: options.readers };
      store.ingest.begin(this.runId, { pid: process.pid, since: Date.now() }, JSON.stringify(settings));
    }
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
   * MLflow's client logs these keys of the run through the tracking server, which stores its
   * points with `write`: capture removes the points it stored for a key new to MLflow in the same
   * transaction (a refused write removes nothing), then stops storing its own for it. So a key
   * both printed and logged with other steps is one series, MLflow's.
   */
  yieldToMlflow<T>(keys: readonly string[], write: () => T): T {
    const fresh = [...new Set(keys)].filter((key) => !this.mlflowKeys.has(key));
    if (fresh.length === 0) return write();
    const result = this.store.transaction(() => {
      for (const key of fresh) this.store.deleteMetricSeries(this.runId, key);
      return write();
    });
    for (const key of fresh) {
      this.mlflowKeys.add(key);
      this.batcher.claim(key, MLFLOW_PRIORITY);
    }
    return result;
  }

  /**
   * Ends capture: parses the last partial lines, stops watching, reads every file of the run
   * folder to its end (artifacts included, stable or not) and flushes. Rejects with the first
   * problem met (a store failure, a file that could not be read, a log that could not be
   * written), after finishing what it could.
   */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  dispose(): void {
    this.close().catch((err) => console.error('Runboard capture failed:', err));
  }

  private consume(stream: ConsoleStream, chunk: Buffer): void {
    if (this.closing) return;
    stream.log?.write(chunk);
    this.split(stream, chunk, Date.now());
    this.guarded(() => this.batcher.scheduleFlush(true));
  }

  private split(stream: ConsoleStream, chunk: Buffer, wall: number): void {
    stream.bytes += chunk.length;
    stream.splitter.push(chunk, stream.lines.wrap((line, overlong) => this.console.line(line, overlong, wall)));
  }

  private consoleStream(name: string): ConsoleStream {
    const stream: ConsoleStream = {
      name,
      log: this.resume ? undefined : new AppendLog(join(this.runDir, name)),
      splitter: new ProgressFolding(new LineSplitter(MAX_LINE_LENGTH)),
      bytes: 0,
      lines: this.track(name, () => stream.bytes),
    };
    return stream;
  }

  /** A source's line count, resuming from its checkpoint; `bytes` tells how much of it was read. */
  private track(source: string, bytes: () => number): SourceLines {
    const lines = new SourceLines(this.batcher, this.resume?.get(source)?.lines ?? 0, bytes);
    this.sources.set(source, lines);
    return lines;
  }

  /** A resumed capture reads a console log back, through the same splitter as live output; its lines get the log's last write time. */
  private async reread(stream: ConsoleStream): Promise<void> {
    let handle;
    try {
      handle = await open(join(this.runDir, stream.name), 'r');
    } catch (err) {
      if (isVanished(err)) return;
      throw err;
    }
    try {
      const wall = Math.trunc((await handle.stat()).mtimeMs);
      const buffer = Buffer.allocUnsafe(REREAD_CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, stream.bytes);
        if (bytesRead === 0) break;
        this.split(stream, Buffer.from(buffer.subarray(0, bytesRead)), wall);
      }
    } finally {
      await handle.close();
    }
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

  /**
   * Background reads while the run goes on. Their file errors are not kept: close() reads every
   * file again to its end, and only what that final read cannot do is lost.
   */
  private async drain(): Promise<void> {
    while (!this.closing && (this.dirty.size > 0 || this.dueArtifacts.size > 0)) {
      const [path] = this.dirty;
      if (path !== undefined) {
        this.dirty.delete(path);
        await this.guardedAsync(() => this.process(path, false), { retriedAtClose: true });
        continue;
      }
      const [artifact] = this.dueArtifacts;
      this.dueArtifacts.delete(artifact!);
      await this.guardedAsync(() => this.artifacts.record(artifact!, this.rel(artifact!), false), { retriedAtClose: true });
    }
  }

  /** Ingests what is new in one file. `final`: the writer is done, so partial lines count. */
  private async process(path: string, final: boolean): Promise<void> {
    switch (this.roleOf(path)) {
      case 'ignored':
        return;
      case 'clientMetrics':
        await this.clientTail.read(final);
        break;
      case 'csv':
        if ((await this.csvLogs.read(path, final)) === 'data') return this.artifactSeen(path, final);
        break;
      case 'trainerState':
        await readTrainerState(path, final, this.batcher);
        break;
      case 'params':
        return this.jsonFiles.read(path, final, (params) => this.store.setParams(this.runId, params));
      case 'tags':
        return this.jsonFiles.read(path, final, (tags) => this.store.setTags(this.runId, tags));
      case 'artifactKinds':
        return this.artifacts.readKinds();
      case 'artifact':
        return this.artifactSeen(path, final);
    }
    this.batcher.scheduleFlush();
  }

  private async artifactSeen(path: string, final: boolean): Promise<void> {
    if (final) await this.artifacts.record(path, this.rel(path), true);
    else this.artifacts.changed(path);
  }

  // ── closing ────────────────────────────────────────────────────────────────
  private async finish(): Promise<void> {
    for (const stream of [this.out, this.err]) {
      if (this.resume) await this.guardedAsync(() => this.reread(stream), { file: stream.name });
      const wall = Date.now();
      stream.splitter.end(stream.lines.wrap((line, overlong) => this.console.line(line, overlong, wall)));
      stream.log?.close();
    }
    await this.watcher?.close();
    this.artifacts.stop();
    while (this.draining) await this.draining;
    await this.guardedAsync(() => this.artifacts.readKinds(), { file: CLIENT_FILES.artifactKinds });
    const files = await listRunFiles(this.runDir, (err, dir) => this.fail(err, this.rel(dir) || '.'));
    for (const path of files) await this.guardedAsync(() => this.process(path, true), { file: this.rel(path) });
    this.guarded(() => this.batcher.flush(true));
    for (const { log } of [this.out, this.err]) if (log?.error) this.fail(log.error, this.rel(log.file), 'written');
    if (this.failure !== undefined) throw this.failure;
  }

  /** Background work must not throw into timers or watcher callbacks: errors are kept for close(). */
  private guarded(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.fail(err);
    }
  }

  /** `retriedAtClose`: a file error is dropped, since close() reads the file again. `file`: named in the error. */
  private async guardedAsync(work: () => Promise<void>, about: { retriedAtClose?: boolean; file?: string }): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!(about.retriedAtClose && isFileError(err))) this.fail(err, about.file);
    }
  }

  /**
   * Keeps the first problem for close(). Only a file that vanished loses nothing worth saying (a
   * run may delete its temporary files); any other file error names the file.
   */
  private fail(err: unknown, file?: string, doing: 'read' | 'written' = 'read'): void {
    if (isVanished(err)) return;
    if (file !== undefined && isFileError(err)) {
      err = Object.assign(new UserError(`${file} could not be ${doing}: ${err.message}`), { code: err.code });
    }
    this.failure ??= err;
  }
}
