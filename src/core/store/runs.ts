import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { change } from './changes.ts';
import type { Connection } from './connection.ts';
import type { Statement } from './db.ts';
import type { Experiment, NewRun, Run, RunStatus } from './types.ts';

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
export const NOT_DELETED = 'r.deleted_at IS NULL';

export const EXPERIMENT_COLUMNS = `e.id, e.name, e.created_at AS createdAt, coalesce(e.updated_at, e.created_at) AS updatedAt, e.deleted_at AS deletedAt,
  (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id AND ${NOT_DELETED}) AS runCount`;

/** A fresh MLflow run id: 32 lowercase hex digits, as MLflow's own uuid4().hex. */
export const newMlflowId = (): string => randomBytes(16).toString('hex');

export const RUN_COLUMNS = `r.id, r.experiment_id, e.name AS experiment, r.name, r.status, r.command, r.cwd, r.pid, r.host,
  r.profile, r.run_dir, r.parent_id, r.created_at, r.started_at, r.ended_at, r.exit_code, r.signal, r.error,
  r.malformed_lines, r.mlflow_id, r.deleted_at, r.user`;

/**
 * A run's tags as MLflow sees them, for `FROM ${RUN_TAGS} g` with the run as `r`: its own, and the
 * fields MLflow keeps as tags (src/core/mlflow/tracking.ts stores them only in their fields).
 */
export const RUN_TAGS = `(SELECT key, value FROM tags WHERE run_id = r.id
  UNION ALL SELECT 'mlflow.runName', r.name
  UNION ALL SELECT 'mlflow.user', r.user WHERE r.user IS NOT NULL
  UNION ALL SELECT 'mlflow.parentRunId', pr.mlflow_id FROM runs pr WHERE pr.id = r.parent_id
  UNION ALL SELECT 'mlflow.source.git.commit', cs.git_commit FROM code_states cs WHERE cs.run_id = r.id AND cs.git_commit IS NOT NULL)`;

const END_COLUMNS = 'status = ?, exit_code = ?, signal = ?, error = ?, ended_at = ?, pid = NULL';

/** Experiments and the runs table: creation, the lifecycle's conditional updates, listing. */
export class RunRepository {
  private readonly sql: Connection;
  private readonly s;
  /** One statement per combination of filter conditions, prepared on first use. */
  private readonly listings = new Map<string, Statement>();

  constructor(sql: Connection) {
    this.sql = sql;
    this.s = {
      experimentId: sql.prepare('SELECT id FROM experiments WHERE name = ?').pluck(),
      addExperiment: sql.prepare('INSERT INTO experiments (name, created_at) VALUES (?, ?)'),
      // A deleted experiment is listed again once a run is launched into it (by name) and is not deleted.
      experiments: sql.prepare(`SELECT * FROM (SELECT ${EXPERIMENT_COLUMNS} FROM experiments e) WHERE deletedAt IS NULL OR runCount > 0 ORDER BY name`),
      add: sql.prepare(`INSERT INTO runs (experiment_id, name, status, command, cwd, host, profile, run_dir, parent_id, created_at, started_at, mlflow_id, user)
        VALUES (@experimentId, @name, @status, @command, @cwd, @host, @profile, @runDir, @parentId, @createdAt, @startedAt, @mlflowId, @user)`),
      name: sql.prepare('UPDATE runs SET name = ? WHERE id = ?'),
      run: sql.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`),
      byName: sql.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.name = ? ORDER BY r.id DESC`),
      start: sql.prepare(`UPDATE runs SET status = 'running', pid = ?, started_at = ? WHERE id = ?`),
      end: sql.prepare(`UPDATE runs SET ${END_COLUMNS} WHERE id = ?`),
      claim: sql.prepare(`UPDATE runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'`),
      setPid: sql.prepare(`UPDATE runs SET pid = ? WHERE id = ? AND status = 'running'`),
      requestStop: sql.prepare(`UPDATE runs SET signal = ? WHERE id = ? AND ${ACTIVE}`),
      endIfActive: sql.prepare(`UPDATE runs SET ${END_COLUMNS} WHERE id = ? AND ${ACTIVE}`),
      endIfQueued: sql.prepare(`UPDATE runs SET ${END_COLUMNS} WHERE id = ? AND status = 'queued'`),
      setTimes: sql.lazy('UPDATE runs SET started_at = ?, ended_at = ? WHERE id = ?'),
      setRunDir: sql.prepare('UPDATE runs SET run_dir = ? WHERE id = ?'),
      malformed: sql.prepare('UPDATE runs SET malformed_lines = malformed_lines + ? WHERE id = ?'),
      delete: sql.prepare('DELETE FROM runs WHERE id = ?'),
      byMlflowId: sql.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.mlflow_id = ?`),
      setDeleted: sql.lazy('UPDATE runs SET deleted_at = ? WHERE id = ?'),
      setUser: sql.lazy('UPDATE runs SET user = ? WHERE id = ?'),
      setParent: sql.lazy('UPDATE runs SET parent_id = ? WHERE id = ?'),
      setStatus: sql.lazy('UPDATE runs SET status = ?, ended_at = ? WHERE id = ?'),
    };
  }

  experimentId(name: string): number {
    const id = this.s.experimentId.get(name) as number | undefined;
    return id ?? Number(this.s.addExperiment.run(name, Date.now()).lastInsertRowid);
  }

  experiments(): Experiment[] {
    return this.s.experiments.all() as Experiment[];
  }

  /** Inserts the row; call inside a transaction (the store adds params and the parent edge to it). */
  insert(spec: NewRun): number {
    const id = Number(
      this.s.add.run({
        experimentId: this.experimentId(spec.experiment ?? DEFAULT_EXPERIMENT),
        name: spec.name ?? '',
        status: spec.status ?? 'queued',
        command: JSON.stringify(spec.command ?? []),
        cwd: spec.cwd ?? null,
        host: spec.host ?? hostname(),
        profile: spec.profile ?? null,
        runDir: spec.runDir ?? null,
        parentId: spec.parentId ?? null,
        createdAt: spec.createdAt ?? Date.now(),
        startedAt: spec.startedAt ?? null,
        mlflowId: spec.mlflowId ?? newMlflowId(),
        user: spec.user ?? null,
      }).lastInsertRowid,
    );
    // An unnamed run is named after its id, so names are unique unless a user chose otherwise.
    if (!spec.name) this.s.name.run(`run-${id}`, id);
    this.changed(id);
    return id;
  }

  get(id: number): Run | undefined {
    const row = this.s.run.get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  /** The newest run of that name. */
  byName(name: string): Run | undefined {
    const row = this.s.byName.get(name) as RunRow | undefined;
    return row && toRun(row);
  }

  list(filter: RunFilter = {}): Run[] {
    const { where, args } = runWhere(filter);
    const statement = this.listing(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id ${where}
      ORDER BY r.id DESC LIMIT ? OFFSET ?`);
    return (statement.all(...args, filter.limit ?? -1, filter.offset ?? 0) as RunRow[]).map(toRun);
  }

  count(filter: Omit<RunFilter, 'limit' | 'offset'> = {}): number {
    const { where, args } = runWhere(filter);
    return this.listing(`SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id ${where}`).pluck().get(...args) as number;
  }

  private listing(text: string): Statement {
    let statement = this.listings.get(text);
    if (!statement) this.listings.set(text, (statement = this.sql.prepare(text)));
    return statement;
  }

  markStarted(id: number, pid: number | null): void {
    this.s.start.run(pid, Date.now(), id);
    this.changed(id);
  }

  markEnded(id: number, end: RunEnd): void {
    this.s.end.run(end.status, end.exitCode ?? null, end.signal ?? null, end.error ?? null, Date.now(), id);
    this.changed(id);
  }

  setTimes(id: number, times: { startedAt: number | null; endedAt: number | null }): void {
    this.s.setTimes().run(times.startedAt, times.endedAt, id);
    this.changed(id);
  }

  claim(id: number): boolean {
    return this.changedIf(id, this.s.claim.run(Date.now(), id).changes);
  }

  setPid(id: number, pid: number): void {
    this.changedIf(id, this.s.setPid.run(pid, id).changes);
  }

  requestStop(id: number, signal: string): boolean {
    return this.changedIf(id, this.s.requestStop.run(signal, id).changes);
  }

  endIfActive(id: number, end: RunEnd & { endedAt?: number }, onlyIfQueued: boolean): boolean {
    const statement = onlyIfQueued ? this.s.endIfQueued : this.s.endIfActive;
    return this.changedIf(id, statement.run(end.status, end.exitCode ?? null, end.signal ?? null, end.error ?? null, end.endedAt ?? Date.now(), id).changes);
  }

  setRunDir(id: number, dir: string): void {
    this.changedIf(id, this.s.setRunDir.run(dir, id).changes);
  }

  addMalformed(id: number, count: number): void {
    if (count > 0) this.changedIf(id, this.s.malformed.run(count, id).changes);
  }

  byMlflowId(mlflowId: string): Run | undefined {
    const row = this.s.byMlflowId.get(mlflowId) as RunRow | undefined;
    return row && toRun(row);
  }

  rename(id: number, name: string): void {
    this.changedIf(id, this.s.name.run(name, id).changes);
  }

  setUser(id: number, user: string): void {
    this.changedIf(id, this.s.setUser().run(user, id).changes);
  }

  /** Soft delete (`deletedAt` set) or restore (null). */
  setDeleted(id: number, deletedAt: number | null): void {
    this.changedIf(id, this.s.setDeleted().run(deletedAt, id).changes);
  }

  /** Call inside a transaction: the store adds the lineage edge. */
  setParent(id: number, parentId: number): void {
    this.changedIf(id, this.s.setParent().run(parentId, id).changes);
  }

  /** A status set by an MLflow client, which may reopen an ended run or end it at a given time. */
  setStatus(id: number, status: RunStatus, endedAt: number | null): void {
    this.changedIf(id, this.s.setStatus().run(status, endedAt, id).changes);
  }

  /** Deletes the row (tables with foreign keys follow by cascade); call inside a transaction. */
  delete(id: number): void {
    this.s.delete.run(id);
    this.sql.emit(change({ deletedRuns: [id] }));
  }

  private changed(id: number): void {
    this.sql.emit(change({ runs: [id] }));
  }

  private changedIf(id: number, rows: number): boolean {
    if (rows > 0) this.changed(id);
    return rows > 0;
  }
}

function runWhere(filter: RunFilter): { where: string; args: unknown[] } {
  const conditions: [string, unknown][] = [];
  if (filter.experiment !== undefined) conditions.push(['e.name = ?', filter.experiment]);
  if (filter.status !== undefined) conditions.push(['r.status = ?', filter.status]);
  if (filter.parentId !== undefined) conditions.push(['r.parent_id = ?', filter.parentId]);
  // Runs an MLflow client deleted are hidden until restored.
  return {
    where: `WHERE ${[NOT_DELETED, ...conditions.map((c) => c[0])].join(' AND ')}`,
    args: conditions.map((c) => c[1]),
  };
}

export interface RunRow {
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
  mlflow_id: string;
  deleted_at: number | null;
  user: string | null;
}

export function toRun(r: RunRow): Run {
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
    mlflowId: r.mlflow_id,
    deletedAt: r.deleted_at,
    user: r.user,
  };
}
