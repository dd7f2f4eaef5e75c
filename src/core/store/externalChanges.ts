import { change, NO_CHANGE, type StoreChange } from './changes.ts';
import type { Connection } from './connection.ts';

/**
 * What the database held when it was last looked at, enough to tell what another process changed
 * since. Opaque to callers: pass back the one `changesSince` returned.
 */
export interface ChangeToken {
  /** SQLite's `data_version`: it moves only when another connection commits. */
  readonly dataVersion: number;
  readonly runCount: number;
  readonly maxRunId: number;
  /** Runs that were active then (queued or running), by a fingerprint of their record and their metrics' point count. */
  readonly runs: ReadonlyMap<number, RunFingerprint>;
  readonly maxModelVersionId: number;
  readonly maxAliasMoveId: number;
  /** The last time a version was deleted, renamed or described, and an experiment renamed, deleted or restored. */
  readonly modelUpdatedAt: number;
  readonly experimentUpdatedAt: number;
  readonly maxDeploymentId: number;
  /** Deployments that were not ended then, by a fingerprint of their record. */
  readonly deployments: ReadonlyMap<number, string>;
}

interface RunFingerprint {
  record: string;
  points: number;
}

interface Totals {
  runCount: number;
  maxRunId: number;
  maxModelVersionId: number;
  maxAliasMoveId: number;
  modelUpdatedAt: number;
  experimentUpdatedAt: number;
  maxDeploymentId: number;
}

// Runs another process may still change: the active ones. Once ended, a run's record changes only
// through this editor (whose own writes are announced by events) or by deletion (counted).
const RUN_RECORD = `r.status || '|' || coalesce(r.pid, '') || '|' || coalesce(r.signal, '') || '|' || coalesce(r.started_at, '') || '|' ||
  coalesce(r.ended_at, '') || '|' || r.malformed_lines || '|' || r.name`;
const ENDED_DEPLOYMENTS = ['stopped', 'stopped unexpectedly', 'failed'];

/**
 * Tells what other processes (the CLI, a training run's capture, another window) wrote to the
 * database file, cheaply: one pragma when nothing changed, a handful of indexed reads otherwise.
 */
export class ExternalChanges {
  private readonly s;

  constructor(sql: Connection) {
    this.s = {
      dataVersion: sql.prepare('PRAGMA data_version').pluck(),
      totals: sql.prepare(`SELECT
          (SELECT count(*) FROM runs) AS runCount,
          (SELECT coalesce(max(id), 0) FROM runs) AS maxRunId,
          (SELECT coalesce(max(id), 0) FROM model_versions) AS maxModelVersionId,
          (SELECT coalesce(max(id), 0) FROM alias_moves) AS maxAliasMoveId,
          (SELECT coalesce(max(updated_at), 0) FROM model_versions) AS modelUpdatedAt,
          (SELECT coalesce(max(updated_at), 0) FROM experiments) AS experimentUpdatedAt,
          (SELECT coalesce(max(id), 0) FROM deployments) AS maxDeploymentId`),
      newRuns: sql.prepare('SELECT id FROM runs WHERE id > ?').pluck(),
      watchedRuns: sql.prepare(`SELECT r.id, ${RUN_RECORD} AS record,
          (SELECT coalesce(sum(s.count), 0) FROM metric_summaries s WHERE s.run_id = r.id) AS points
        FROM runs r WHERE r.status IN ('queued', 'running') OR r.id IN (SELECT value FROM json_each(?))`),
      models: sql.prepare('SELECT name FROM model_versions WHERE id > ? OR updated_at > ? UNION SELECT name FROM alias_moves WHERE id > ?').pluck(),
      deployments: sql.prepare(`SELECT id, status || '|' || coalesce(pid, '') || '|' || coalesce(url, '') || '|' || coalesce(port, '') || '|' ||
          coalesce(error, '') AS record
        FROM deployments WHERE id > ? OR status NOT IN (${ENDED_DEPLOYMENTS.map((status) => `'${status}'`).join(', ')}) OR id IN (SELECT value FROM json_each(?))`),
    };
  }

  /** A token for the database as it is now. */
  token(): ChangeToken {
    return this.changesSince(undefined).token;
  }

  /**
   * What changed since `token` was taken, and a token for now. `everything` only when the change
   * cannot be narrowed (ended runs were deleted by another process, or there was no token). When
   * another process wrote too, this connection's own writes since the token may be named as well:
   * an extra refresh, never a missed one.
   */
  changesSince(token: ChangeToken | undefined): { token: ChangeToken; change: StoreChange } {
    const dataVersion = this.s.dataVersion.get() as number;
    if (token && token.dataVersion === dataVersion) return { token, change: NO_CHANGE };
    const totals = this.s.totals.get() as Totals;
    const watched = this.s.watchedRuns.all(JSON.stringify(token ? [...token.runs.keys()] : [])) as ({ id: number } & RunFingerprint)[];
    const deployments = this.s.deployments.all(token?.maxDeploymentId ?? 0, JSON.stringify(token ? [...token.deployments.keys()] : [])) as {
      id: number;
      record: string;
    }[];
    const next: ChangeToken = {
      dataVersion,
      ...totals,
      runs: new Map(watched.filter((r) => /^(queued|running)\|/.test(r.record)).map(({ id, record, points }) => [id, { record, points }])),
      deployments: new Map(deployments.filter((d) => !ENDED_DEPLOYMENTS.includes(d.record.split('|')[0]!)).map((d) => [d.id, d.record])),
    };
    if (!token) return { token: next, change: change({ everything: true }) };

    const created = totals.maxRunId > token.maxRunId ? (this.s.newRuns.all(token.maxRunId) as number[]) : [];
    const seen = new Set(watched.map((r) => r.id));
    const deletedRuns = [...token.runs.keys()].filter((id) => !seen.has(id));
    // Deletions beyond those of watched runs cannot be named without listing every run.
    if (token.runCount + created.length - deletedRuns.length !== totals.runCount) return { token: next, change: change({ everything: true }) };
    // An experiment renamed, deleted or restored changes the list itself and its runs' records.
    if (totals.experimentUpdatedAt !== token.experimentUpdatedAt) return { token: next, change: change({ everything: true }) };
    const runs = [...created];
    const isNew = new Set(created);
    const metrics: number[] = [];
    for (const r of watched) {
      const before = token.runs.get(r.id);
      if (!before || isNew.has(r.id)) continue;
      if (before.record !== r.record) runs.push(r.id);
      else if (before.points !== r.points) metrics.push(r.id);
    }
    const models =
      totals.maxModelVersionId > token.maxModelVersionId || totals.maxAliasMoveId > token.maxAliasMoveId || totals.modelUpdatedAt !== token.modelUpdatedAt
        ? (this.s.models.all(token.maxModelVersionId, token.modelUpdatedAt, token.maxAliasMoveId) as string[])
        : [];
    const changedDeployments = deployments.filter((d) => token.deployments.get(d.id) !== d.record).map((d) => d.id);
    return { token: next, change: change({ runs, metrics, deletedRuns, models, deployments: changedDeployments }) };
  }
}
