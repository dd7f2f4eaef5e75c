import { change } from './changes.ts';
import type { Connection } from './connection.ts';
import type { LineageRepository } from './lineage.ts';

/** A row of deployments with its model's name and version; `config` is the target's JSON document, kept as text. */
export interface DeploymentRecord {
  id: number;
  modelVersionId: number;
  model: string;
  version: number;
  target: string;
  status: string;
  url: string | null;
  port: number | null;
  pid: number | null;
  dir: string | null;
  config: string;
  error: string | null;
  forced: string[] | null;
  replacesId: number | null;
  createdAt: number;
  stoppedAt: number | null;
}

export interface NewDeployment {
  modelVersionId: number;
  target: string;
  port: number | null;
  config: string;
  forced: string[] | null;
  replacesId: number | null;
  createdAt: number;
}

export interface DeploymentOutcome {
  status: string;
  url: string | null;
  port: number | null;
  pid: number | null;
  config: string;
  error: string | null;
}

const SELECT = `SELECT d.id, d.model_version_id AS modelVersionId, mv.name AS model, mv.version, d.target, d.status, d.url, d.port, d.pid,
  d.dir, d.config, d.error, d.forced, d.replaces_id AS replacesId, d.created_at AS createdAt, d.stopped_at AS stoppedAt
  FROM deployments d JOIN model_versions mv ON mv.id = d.model_version_id`;

/** Deployments and their status changes. Every write announces the deployment it touched. */
export class DeploymentRepository {
  private readonly sql: Connection;
  private readonly lineage: LineageRepository;
  private readonly s;

  constructor(sql: Connection, lineage: LineageRepository) {
    this.sql = sql;
    this.lineage = lineage;
    this.s = {
      all: sql.prepare(`${SELECT} ORDER BY d.id DESC`),
      get: sql.prepare(`${SELECT} WHERE d.id = ?`),
      ofVersion: sql.lazy(`${SELECT} WHERE d.model_version_id = ? ORDER BY d.id`),
      watched: sql.prepare(`${SELECT} WHERE d.status IN ('running', 'deployed', 'stopping') ORDER BY d.id`),
      insert: sql.lazy(`INSERT INTO deployments (model_version_id, target, status, port, config, forced, replaces_id, created_at)
        VALUES (@modelVersionId, @target, 'starting', @port, @config, @forced, @replacesId, @createdAt)`),
      setDir: sql.lazy('UPDATE deployments SET dir = ? WHERE id = ?'),
      outcome: sql.lazy('UPDATE deployments SET status = @status, url = @url, port = @port, pid = @pid, config = @config, error = @error WHERE id = @id'),
      status: sql.prepare('UPDATE deployments SET status = ? WHERE id = ?'),
      stopped: sql.prepare(`UPDATE deployments SET status = 'stopped', pid = NULL, stopped_at = ? WHERE id = ?`),
      gone: sql.prepare(`UPDATE deployments SET status = ?, pid = NULL, stopped_at = ?, error = coalesce(error, ?) WHERE id = ? AND status = ?`),
      exited: sql.prepare(`UPDATE deployments SET status = 'stopped unexpectedly', pid = NULL, stopped_at = ?, error = ? WHERE id = ? AND status IN ('running', 'deployed')`),
      previous: sql.lazy(`SELECT mv.version FROM deployments d JOIN model_versions mv ON mv.id = d.model_version_id
        WHERE mv.name = ? AND d.target = ? AND d.id < ? AND mv.version < ? AND d.status <> 'failed' AND mv.deleted_at IS NULL ORDER BY d.id DESC LIMIT 1`, (s) => s.pluck()),
    };
  }

  list(): DeploymentRecord[] {
    return (this.s.all.all() as DeploymentRow[]).map(toRecord);
  }

  get(id: number): DeploymentRecord | undefined {
    const row = this.s.get.get(id) as DeploymentRow | undefined;
    return row && toRecord(row);
  }

  /** Every deployment of a model version, ended ones too, oldest first. */
  ofVersion(modelVersionId: number): DeploymentRecord[] {
    return (this.s.ofVersion().all(modelVersionId) as DeploymentRow[]).map(toRecord);
  }

  /** Those whose server may be running: reconciliation checks them. */
  watched(): DeploymentRecord[] {
    return (this.s.watched.all() as DeploymentRow[]).map(toRecord);
  }

  /** A new deployment, `starting`, in the folder `dirOf(id)`, with its lineage edge from the model version. */
  create(spec: NewDeployment, dirOf: (id: number) => string): number {
    return this.sql.transaction(() => {
      const id = Number(this.s.insert().run({ ...spec, forced: spec.forced && JSON.stringify(spec.forced) }).lastInsertRowid);
      this.s.setDir().run(dirOf(id), id);
      this.lineage.addEdge({ srcKind: 'model_version', srcId: spec.modelVersionId, dstKind: 'deployment', dstId: id, relation: 'deployed' });
      this.changed(id);
      return id;
    });
  }

  /** What the target reported after deploying. */
  recordOutcome(id: number, outcome: DeploymentOutcome): void {
    this.s.outcome().run({ ...outcome, id });
    this.changed(id);
  }

  setStatus(id: number, status: string): void {
    this.s.status.run(status, id);
    this.changed(id);
  }

  markStopped(id: number): void {
    this.s.stopped.run(Date.now(), id);
    this.changed(id);
  }

  /** Ends a deployment found not running, unless its status moved on from `expected` meanwhile. */
  markGone(id: number, expected: string, status: string, error: string | null): boolean {
    return this.changedIf(id, this.s.gone.run(status, Date.now(), error, id, expected).changes);
  }

  /** A server that exited on its own, while it was meant to be serving. */
  markExited(id: number, error: string): boolean {
    return this.changedIf(id, this.s.exited.run(Date.now(), error, id).changes);
  }

  /** The version deployed on `target` before deployment `id`, older than `version`, and not deleted since. */
  previousVersion(model: string, target: string, id: number, version: number): number | undefined {
    return this.s.previous().get(model, target, id, version) as number | undefined;
  }

  private changed(id: number): void {
    this.sql.emit(change({ deployments: [id] }));
  }

  private changedIf(id: number, rows: number): boolean {
    if (rows > 0) this.changed(id);
    return rows > 0;
  }
}

type DeploymentRow = Omit<DeploymentRecord, 'forced'> & { forced: string | null };

function toRecord(r: DeploymentRow): DeploymentRecord {
  return { ...r, forced: r.forced === null ? null : JSON.parse(r.forced) };
}
