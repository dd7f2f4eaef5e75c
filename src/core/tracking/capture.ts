import { watch, type FSWatcher } from 'chokidar';
import { mkdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import type { Disposable } from '../events.ts';
import { AppendLog } from '../io/appendLog.ts';
import { FileTail, LineSplitter } from '../io/tail.ts';
import type { Store } from '../store/store.ts';
import { ArtifactStabilizer } from './artifacts.ts';
import { MetricBatcher } from './batcher.ts';
import { isFileError, isVanished } from './fileErrors.ts';
import { MAX_LINE_LENGTH, type ReaderSwitches } from './lineParser.ts';
import { ProgressFolding, type LineSource } from './progressBars.ts';
import { CLIENT_FILES, fileRole, listRunFiles, LOG_FILES, type FileRole } from './runFolder.ts';
import { ClientMetricsSource, ConsoleSource, CsvLogs, JsonObjectFiles, readTrainerState } from './sources.ts';

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

/** One console stream: its raw log file and its line splitter. */
interface ConsoleStream {
  log: AppendLog;
  splitter: LineSource;
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

  private readonly dirty = new Set<string>();
  private readonly dueArtifacts = new Set<string>();
  private draining: Promise<void> | undefined;
  private failure: unknown;
  private closing: Promise<void> | undefined;

  constructor(store: Store, options: RunCaptureOptions) {
    this.store = store;
    this.runId = options.runId;
    this.runDir = resolve(options.runDir);
    const clientFile = join(this.runDir, CLIENT_FILES.metrics);
    this.batcher = new MetricBatcher({
      store,
      runId: this.runId,
      beforeFlush: () => {
        this.out.log.flush();
        this.err.log.flush();
      },
      clientFileUnread: () => {
        const unread = (statSync(clientFile, { throwIfNoEntry: false })?.size ?? 0) > this.clientTail.offset;
        if (unread) this.touch(clientFile);
        return unread;
      },
      onError: (err) => this.fail(err),
    });
    this.console = new ConsoleSource(this.batcher, options.regex, options.readers);
    this.client = new ClientMetricsSource(this.batcher);
    this.clientTail = new FileTail(clientFile, { maxLineLength: MAX_LINE_LENGTH, onLine: (line, overlong) => this.client.line(line, overlong) });
    this.csvLogs = new CsvLogs(this.batcher);
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
    this.out = { log: new AppendLog(join(this.runDir, LOG_FILES.stdout)), splitter: new ProgressFolding(new LineSplitter(MAX_LINE_LENGTH)) };
    this.err = { log: new AppendLog(join(this.runDir, LOG_FILES.stderr)), splitter: new ProgressFolding(new LineSplitter(MAX_LINE_LENGTH)) };
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
    stream.log.write(chunk);
    const wall = Date.now();
    stream.splitter.push(chunk, (line, overlong) => this.console.line(line, overlong, wall));
    this.guarded(() => this.batcher.scheduleFlush(true));
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
      const wall = Date.now();
      stream.splitter.end((line, overlong) => this.console.line(line, overlong, wall));
      stream.log.close();
    }
    await this.watcher?.close();
    this.artifacts.stop();
    while (this.draining) await this.draining;
    await this.guardedAsync(() => this.artifacts.readKinds(), { file: CLIENT_FILES.artifactKinds });
    const files = await listRunFiles(this.runDir, (err, dir) => this.fail(err, this.rel(dir) || '.'));
    for (const path of files) await this.guardedAsync(() => this.process(path, true), { file: this.rel(path) });
    this.guarded(() => this.batcher.flush(true));
    for (const { log } of [this.out, this.err]) if (log.error) this.fail(log.error, this.rel(log.file), 'written');
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
