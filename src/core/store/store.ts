import { hostname } from 'node:os';
import { Emitter } from '../events.ts';
import { UserError } from '../errors.ts';
import { CaptureReaders } from './captureReaders.ts';
import { openDb, type Db, type OpenOptions, type Statement } from './db.ts';
import { MetricStore } from './metrics.ts';
import type {
  Artifact,
  ArtifactKind,
  CodeState,
  Envelope,
  Experiment,
  Input,
  LineageEdge,
  LineageKind,
  MetricPoint,
  MetricSummary,
  NewRun,
  Run,
  RunStatus,
  SeriesPoint,
} from './types.ts';

export type StoreChange =
  | { kind: 'run'; runId: number }
  | { kind: 'metrics'; runId: number; inserted: number }
  | { kind: 'runDeleted'; runId: number }
  | { kind: 'models' }
  | { kind: 'deployments' };

export interface RunFilter {
  experiment?: string;
  status?: RunStatus;
  parentId?: number;
  limit?: number;
  offset?: number;
}

export interface RunEnd {
  status: RunStatus;
  exitCode?: number | null;
  signal?: string | null;
  error?: string | null;
}

export const DEFAULT_EXPERIMENT = 'Default';

const ACTIVE = `status IN ('queued', 'running')`;

const RUN_COLUMNS = `r.id, r.experiment_id, e.name AS experiment, r.name, r.status, r.command, r.cwd, r.pid, r.host,
  r.profile, r.run_dir, r.parent_id, r.created_at, r.started_at, r.ended_at, r.exit_code, r.signal, r.error,
  r.malformed_lines`;

/**
 * The lineage store: one SQLite file per workspace. Every write goes through here and fires
 * `onDidChange`, which trees and webviews listen to (in this process).
 */
export class Store {
  readonly metrics: MetricStore;
  readonly captureReaders: CaptureReaders;
  private readonly changes = new Emitter<StoreChange>();
  readonly onDidChange = this.changes.event;
  private readonly s: Record<string, Statement>;

  static open(file: string, options?: OpenOptions): Store {
    return new Store(openDb(file, options), file);
  }

  readonly db: Db;
  readonly file: string;

  private constructor(db: Db, file: string) {
    this.db = db;
    this.file = file;
    this.metrics = new MetricStore(db);
    this.captureReaders = new CaptureReaders(db);
    this.s = {
      experimentId: db.prepare('SELECT id FROM experiments WHERE name = ?').pluck(),
      addExperiment: db.prepare('INSERT INTO experiments (name, created_at) VALUES (?, ?)'),
      experiments: db.prepare(`SELECT e.id, e.name, e.created_at AS createdAt,
        (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id) AS runCount FROM experiments e ORDER BY e.name`),
      addRun: db.prepare(`INSERT INTO runs (experiment_id, name, status, command, cwd, host, profile, run_dir, parent_id, created_at)
        VALUES (@experimentId, @name, @status, @command, @cwd, @host, @profile, @runDir, @parentId, @createdAt)`),
      run: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`),
      runsByName: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.name = ? ORDER BY r.id DESC`),
      setParam: db.prepare('INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)'),
      params: db.prepare('SELECT key, value FROM params WHERE run_id = ? ORDER BY key'),
      setTag: db.prepare('INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)'),
      tags: db.prepare('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key'),
      runIdWithTag: db.prepare('SELECT run_id FROM tags WHERE key = ? AND value = ?').pluck(),
      start: db.prepare(`UPDATE runs SET status = 'running', pid = ?, started_at = ? WHERE id = ?`),
      end: db.prepare('UPDATE runs SET status = ?, exit_code = ?, signal = ?, error = ?, ended_at = ?, pid = NULL WHERE id = ?'),
      claim: db.prepare(`UPDATE runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'`),
      setPid: db.prepare(`UPDATE runs SET pid = ? WHERE id = ? AND status = 'running'`),
      requestStop: db.prepare(`UPDATE runs SET signal = ? WHERE id = ? AND ${ACTIVE}`),
      endIfActive: db.prepare(`UPDATE runs SET status = ?, exit_code = ?, signal = ?, error = ?, ended_at = ?, pid = NULL WHERE id = ? AND ${ACTIVE}`),
      endIfQueued: db.prepare(`UPDATE runs SET status = ?, exit_code = ?, signal = ?, error = ?, ended_at = ?, pid = NULL WHERE id = ? AND status = 'queued'`),
      setTimes: db.prepare('UPDATE runs SET started_at = ?, ended_at = ? WHERE id = ?'),
      setRunDir: db.prepare('UPDATE runs SET run_dir = ? WHERE id = ?'),
      malformed: db.prepare('UPDATE runs SET malformed_lines = malformed_lines + ? WHERE id = ?'),
      deleteRun: db.prepare('DELETE FROM runs WHERE id = ?'),
      deleteRunMetrics: db.prepare('DELETE FROM metrics WHERE run_id = ?'),
      deleteRunRollups: db.prepare('DELETE FROM metric_rollups WHERE run_id = ?'),
      deleteRunEdges: db.prepare(`DELETE FROM lineage_edges WHERE (src_kind = 'run' AND src_id = @id) OR (dst_kind = 'run' AND dst_id = @id)`),
      addArtifact: db.prepare(`INSERT OR REPLACE INTO artifacts (run_id, path, size, sha256, kind, created_at)
        VALUES (?, ?, ?, ?, ?, ?)`),
      artifacts: db.prepare('SELECT path, size, sha256, kind, created_at AS createdAt FROM artifacts WHERE run_id = ? ORDER BY path'),
      datasetId: db.prepare('SELECT id FROM datasets WHERE path = ? AND fingerprint = ?').pluck(),
      addDataset: db.prepare('INSERT INTO datasets (path, fingerprint, size) VALUES (?, ?, ?)'),
      addInput: db.prepare('INSERT OR IGNORE INTO run_inputs (run_id, dataset_id) VALUES (?, ?)'),
      inputs: db.prepare(`SELECT d.id AS datasetId, d.path, d.fingerprint, d.size FROM run_inputs i
        JOIN datasets d ON d.id = i.dataset_id WHERE i.run_id = ? ORDER BY d.path`),
      setCode: db.prepare(`INSERT OR REPLACE INTO code_states (run_id, git_commit, branch, dirty, patch, patch_truncated)
        VALUES (?, ?, ?, ?, ?, ?)`),
      code: db.prepare('SELECT git_commit, branch, dirty, patch, patch_truncated FROM code_states WHERE run_id = ?'),
      setEnv: db.prepare('INSERT OR REPLACE INTO environments (run_id, info) VALUES (?, ?)'),
      env: db.prepare('SELECT info FROM environments WHERE run_id = ?').pluck(),
      cachedFingerprint: db.prepare('SELECT fingerprint FROM fingerprint_cache WHERE path = ? AND size = ? AND mtime_ms = ?').pluck(),
      cacheFingerprint: db.prepare('INSERT OR REPLACE INTO fingerprint_cache (path, size, mtime_ms, fingerprint) VALUES (?, ?, ?, ?)'),
      addEdge: db.prepare(`INSERT OR IGNORE INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation) VALUES (?, ?, ?, ?, ?)`),
      upstream: db.prepare(`WITH RECURSIVE up(kind, id) AS (SELECT ?, ?
          UNION SELECT e.src_kind, e.src_id FROM lineage_edges e JOIN up ON e.dst_kind = up.kind AND e.dst_id = up.id)
        SELECT e.src_kind AS srcKind, e.src_id AS srcId, e.dst_kind AS dstKind, e.dst_id AS dstId, e.relation
        FROM lineage_edges e JOIN up ON e.dst_kind = up.kind AND e.dst_id = up.id`),
      downstream: db.prepare(`WITH RECURSIVE down(kind, id) AS (SELECT ?, ?
          UNION SELECT e.dst_kind, e.dst_id FROM lineage_edges e JOIN down ON e.src_kind = down.kind AND e.src_id = down.id)
        SELECT e.src_kind AS srcKind, e.src_id AS srcId, e.dst_kind AS dstKind, e.dst_id AS dstId, e.relation
        FROM lineage_edges e JOIN down ON e.src_kind = down.kind AND e.src_id = down.id`),
    };
  }

  close(): void {
    this.changes.dispose();
    if (this.db.open) this.db.close();
  }

  /**
   * Runs `fn` in one transaction (nested calls become savepoints). Writers outside the store use
   * this rather than `db.transaction`, so the store's caches forget what a rollback undid.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      this.metrics.forgetKeyIds();
      throw err;
    }
  }

  /** Lets other owners (registry, deploy) announce their writes through the same channel. */
  notify(change: StoreChange): void {
    this.changes.fire(change);
  }

  // ── experiments ────────────────────────────────────────────────────────────
  experimentId(name: string): number {
    const id = this.s.experimentId.get(name) as number | undefined;
    return id ?? Number(this.s.addExperiment.run(name, Date.now()).lastInsertRowid);
  }

  experiments(): Experiment[] {
    return this.s.experiments.all() as Experiment[];
  }

  // ── runs ───────────────────────────────────────────────────────────────────
  createRun(spec: NewRun = {}): Run {
    const id = this.db.transaction(() => {
      const experimentId = this.experimentId(spec.experiment ?? DEFAULT_EXPERIMENT);
      const id = Number(
        this.s.addRun.run({
          experimentId,
          name: spec.name ?? '',
          status: spec.status ?? 'queued',
          command: JSON.stringify(spec.command ?? []),
          cwd: spec.cwd ?? null,
          host: spec.host ?? hostname(),
          profile: spec.profile ?? null,
          runDir: spec.runDir ?? null,
          parentId: spec.parentId ?? null,
          createdAt: spec.createdAt ?? Date.now(),
        }).lastInsertRowid,
      );
      // An unnamed run is named after its id, so names are unique unless a user chose otherwise.
      if (!spec.name) this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(`run-${id}`, id);
      if (spec.params) this.setParamsInTx(id, spec.params);
      if (spec.parentId !== undefined) this.s.addEdge.run('run', spec.parentId, 'run', id, 'child');
      return id;
    }).immediate();
    this.changes.fire({ kind: 'run', runId: id });
    return this.run(id)!;
  }

  run(id: number): Run | undefined {
    const row = this.s.run.get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  /** A run by numeric id or by name (the newest run of that name). */
  resolveRun(ref: string | number): Run {
    const text = String(ref).trim();
    const byName = (): Run | undefined => {
      const row = this.s.runsByName.get(text) as RunRow | undefined;
      return row && toRun(row);
    };
    const run = (/^\d+$/.test(text) ? this.run(Number(text)) : undefined) ?? byName();
    if (!run) throw new UserError(`No run "${text}" in ${this.file}. List runs with: runboard runs`);
    return run;
  }

  runs(filter: RunFilter = {}): Run[] {
    const { where, args } = runWhere(filter);
    const sql = `SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id ${where}
      ORDER BY r.id DESC LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? -1, filter.offset ?? 0) as RunRow[]).map(toRun);
  }

  countRuns(filter: Omit<RunFilter, 'limit' | 'offset'> = {}): number {
    const { where, args } = runWhere(filter);
    return this.db.prepare(`SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id ${where}`).pluck().get(...args) as number;
  }

  markStarted(id: number, pid: number | null): void {
    this.s.start.run(pid, Date.now(), id);
    this.changes.fire({ kind: 'run', runId: id });
  }

  markEnded(id: number, end: RunEnd): void {
    this.s.end.run(end.status, end.exitCode ?? null, end.signal ?? null, end.error ?? null, Date.now(), id);
    this.changes.fire({ kind: 'run', runId: id });
  }

  /**
   * Replaces the start and end the store stamped with recorded ones (an import). Not the creation
   * time: metric walls are stored relative to it, so it is fixed when the run is created.
   */
  setRunTimes(id: number, times: { startedAt: number | null; endedAt: number | null }): void {
    this.s.setTimes.run(times.startedAt, times.endedAt, id);
    this.changes.fire({ kind: 'run', runId: id });
  }

  // A run can be ended by its launcher, by `runboard stop` in another process, or by crash
  // reconciliation, in any order: the conditional updates below apply only while the run is still
  // active, so the first terminal status wins and later ones are no-ops (and announce nothing).

  /** queued → running; false when the run was ended meanwhile (stopped before it started). */
  claimRun(id: number): boolean {
    return this.runChanged(id, this.s.claim.run(Date.now(), id).changes);
  }

  /** Only on a running run: an ended one keeps no pid that could be reused by another process. */
  setRunPid(id: number, pid: number): void {
    this.runChanged(id, this.s.setPid.run(pid, id).changes);
  }

  /**
   * Records that a stop was asked for, with the signal sent. On an active run the `signal` column
   * means exactly that, so a launcher in another process learns that an exit after SIGTERM (even
   * exit code 0 from a script that handles it) is a kill, not a finish.
   */
  requestStop(id: number, signal: NodeJS.Signals): boolean {
    return this.runChanged(id, this.s.requestStop.run(signal, id).changes);
  }

  /**
   * Ends a run unless something else already did; true when this call decided its status.
   * `onlyIfQueued` ends it only if it has not been claimed to start.
   */
  markEndedIfActive(id: number, end: RunEnd & { endedAt?: number }, onlyIfQueued = false): boolean {
    const statement = onlyIfQueued ? this.s.endIfQueued : this.s.endIfActive;
    const result = statement.run(end.status, end.exitCode ?? null, end.signal ?? null, end.error ?? null, end.endedAt ?? Date.now(), id);
    return this.runChanged(id, result.changes);
  }

  private runChanged(id: number, changes: number): boolean {
    if (changes > 0) this.changes.fire({ kind: 'run', runId: id });
    return changes > 0;
  }

  setRunDir(id: number, dir: string): void {
    this.s.setRunDir.run(dir, id);
  }

  addMalformed(id: number, count: number): void {
    if (count > 0) this.s.malformed.run(count, id);
  }

  deleteRun(id: number): void {
    this.db.transaction(() => {
      this.s.deleteRunMetrics.run(id);
      this.s.deleteRunRollups.run(id);
      this.s.deleteRunEdges.run({ id });
      this.s.deleteRun.run(id);
    }).immediate();
    this.changes.fire({ kind: 'runDeleted', runId: id });
  }

  // ── params and tags ────────────────────────────────────────────────────────
  setParams(runId: number, params: Record<string, unknown>): void {
    this.db.transaction(() => this.setParamsInTx(runId, params)).immediate();
    this.changes.fire({ kind: 'run', runId });
  }

  private setParamsInTx(runId: number, params: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(params)) this.s.setParam.run(runId, key, paramText(value));
  }

  params(runId: number): Record<string, string> {
    return Object.fromEntries((this.s.params.all(runId) as KV[]).map((r) => [r.key, r.value]));
  }

  setTags(runId: number, tags: Record<string, unknown>): void {
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(tags)) this.s.setTag.run(runId, key, paramText(value));
    }).immediate();
    this.changes.fire({ kind: 'run', runId });
  }

  tags(runId: number): Record<string, string> {
    return Object.fromEntries((this.s.tags.all(runId) as KV[]).map((r) => [r.key, r.value]));
  }

  /** A run with this tag value, if any. */
  runIdWithTag(key: string, value: string): number | undefined {
    return this.s.runIdWithTag.get(key, value) as number | undefined;
  }

  // ── metrics ────────────────────────────────────────────────────────────────
  logMetrics(runId: number, points: readonly MetricPoint[]): number {
    if (points.length === 0) return 0;
    const inserted = this.metrics.log(runId, points);
    if (inserted) this.changes.fire({ kind: 'metrics', runId, inserted });
    return inserted;
  }

  summaries(runId: number): Record<string, MetricSummary> {
    return this.metrics.summaries(runId);
  }

  series(runId: number, key: string, from?: number, to?: number): SeriesPoint[] {
    return this.metrics.series(runId, key, from, to);
  }

  envelope(runId: number, key: string, buckets: number, from?: number, to?: number): Envelope {
    return this.metrics.envelope(runId, key, buckets, from, to);
  }

  // ── artifacts, inputs, code, environment ───────────────────────────────────
  addArtifact(runId: number, a: { path: string; size: number; sha256: string; kind: ArtifactKind }): void {
    this.s.addArtifact.run(runId, a.path, a.size, a.sha256, a.kind, Date.now());
    this.changes.fire({ kind: 'run', runId });
  }

  artifacts(runId: number): Artifact[] {
    return this.s.artifacts.all(runId) as Artifact[];
  }

  addInput(runId: number, input: { path: string; fingerprint: string; size: number }): number {
    const datasetId = this.db.transaction(() => {
      const id =
        (this.s.datasetId.get(input.path, input.fingerprint) as number | undefined) ??
        Number(this.s.addDataset.run(input.path, input.fingerprint, input.size).lastInsertRowid);
      this.s.addInput.run(runId, id);
      this.s.addEdge.run('dataset', id, 'run', runId, 'input');
      return id;
    }).immediate();
    return datasetId;
  }

  inputs(runId: number): Input[] {
    return this.s.inputs.all(runId) as Input[];
  }

  cachedFingerprint(path: string, size: number, mtimeMs: number): string | undefined {
    return this.s.cachedFingerprint.get(path, size, Math.trunc(mtimeMs)) as string | undefined;
  }

  cacheFingerprint(path: string, size: number, mtimeMs: number, fingerprint: string): void {
    this.s.cacheFingerprint.run(path, size, Math.trunc(mtimeMs), fingerprint);
  }

  setCodeState(runId: number, code: CodeState): void {
    this.s.setCode.run(runId, code.commit, code.branch, code.dirty ? 1 : 0, code.patch, code.patchTruncated ? 1 : 0);
  }

  codeState(runId: number): CodeState | undefined {
    const row = this.s.code.get(runId) as CodeRow | undefined;
    return (
      row && {
        commit: row.git_commit,
        branch: row.branch,
        dirty: row.dirty === 1,
        patch: row.patch,
        patchTruncated: row.patch_truncated === 1,
      }
    );
  }

  setEnvironment(runId: number, info: Record<string, unknown>): void {
    this.s.setEnv.run(runId, JSON.stringify(info));
  }

  environment(runId: number): Record<string, unknown> | undefined {
    const text = this.s.env.get(runId) as string | undefined;
    return text === undefined ? undefined : JSON.parse(text);
  }

  // ── lineage ────────────────────────────────────────────────────────────────
  addEdge(edge: LineageEdge): void {
    this.s.addEdge.run(edge.srcKind, edge.srcId, edge.dstKind, edge.dstId, edge.relation);
  }

  /** Every edge on the way back from a node to its sources (data, parent runs, …): one query. */
  upstream(kind: LineageKind, id: number): LineageEdge[] {
    return this.s.upstream.all(kind, id) as LineageEdge[];
  }

  /** Every edge from a node onward (models built from a run, their deployments, …). */
  downstream(kind: LineageKind, id: number): LineageEdge[] {
    return this.s.downstream.all(kind, id) as LineageEdge[];
  }
}

function runWhere(filter: RunFilter): { where: string; args: unknown[] } {
  const conditions: [string, unknown][] = [];
  if (filter.experiment !== undefined) conditions.push(['e.name = ?', filter.experiment]);
  if (filter.status !== undefined) conditions.push(['r.status = ?', filter.status]);
  if (filter.parentId !== undefined) conditions.push(['r.parent_id = ?', filter.parentId]);
  return {
    where: conditions.length ? `WHERE ${conditions.map((c) => c[0]).join(' AND ')}` : '',
    args: conditions.map((c) => c[1]),
  };
}

/** Params are stored as text the way a user would type them: 0.1, true, adam. */
export function paramText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? 'null';
}

interface KV {
  key: string;
  value: string;
}
interface CodeRow {
  git_commit: string | null;
  branch: string | null;
  dirty: number;
  patch: string | null;
  patch_truncated: number;
}
interface RunRow {
  id: number;
  experiment_id: number;
  experiment: string;
  name: string;
  status: RunStatus;
  command: string;
  cwd: string | null;
  pid: number | null;
  host: string | null;
  profile: string | null;
  run_dir: string | null;
  parent_id: number | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  malformed_lines: number;
}

function toRun(r: RunRow): Run {
  return {
    id: r.id,
    experimentId: r.experiment_id,
    experiment: r.experiment,
    name: r.name,
    status: r.status,
    command: JSON.parse(r.command),
    cwd: r.cwd,
    pid: r.pid,
    host: r.host,
    profile: r.profile,
    runDir: r.run_dir,
    parentId: r.parent_id,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    exitCode: r.exit_code,
    signal: r.signal,
    error: r.error,
    malformedLines: r.malformed_lines,
  };
}
