import { change } from './changes.ts';
import type { Connection } from './connection.ts';

export type SyncOrigin = 'pushed' | 'pulled';
/** A run's sync state for a badge: pushed somewhere, changed since (a new point, param, status…), or pulled from a remote. */
export type SyncBadge = 'pushed' | 'changed' | 'remote';
export type SentKind = 'param' | 'tag' | 'metric' | 'artifact' | 'input' | 'model' | 'alias';

/** A run's link to one remote (an MLflow server, by URL). */
export interface SyncLink {
  runId: number;
  remote: string;
  origin: SyncOrigin;
  /** Null while the run's creation there was sent and not yet answered. */
  remoteRunId: string | null;
  remoteExperimentId: string | null;
  artifactUri: string | null;
  /** Pushed: the status and end last sent; pulled: the remote's signature last read. */
  state: string;
  /** A metric batch went out and its answer was not recorded: ask the remote what arrived. */
  uncertain: boolean;
  syncedAt: number | null;
}

interface LinkRow {
  run_id: number;
  remote: string;
  origin: SyncOrigin;
  remote_run_id: string | null;
  remote_experiment_id: string | null;
  artifact_uri: string | null;
  state: string;
  uncertain: number;
  synced_at: number | null;
}

/** One metric point as stored: step, wall (epoch ms), value (null = NaN). */
export type StoredPoint = [step: number, wall: number, value: number | null];

/**
 * Sync bookkeeping (schema 7): per run and remote, the remote run and what a push already sent,
 * each batch's record committed with its answer, so an interrupted push resumes where it stopped;
 * and which runs were pulled from which remote.
 */
export class SyncRepository {
  private readonly sql: Connection;
  private readonly s;

  constructor(sql: Connection) {
    this.sql = sql;
    const columns = 'run_id, remote, origin, remote_run_id, remote_experiment_id, artifact_uri, state, uncertain, synced_at';
    this.s = {
      link: sql.lazy(`SELECT ${columns} FROM sync_runs WHERE run_id = ? AND remote = ?`),
      links: sql.lazy(`SELECT ${columns} FROM sync_runs WHERE run_id = ? ORDER BY remote`),
      byRemoteId: sql.lazy(`SELECT ${columns} FROM sync_runs WHERE remote = ? AND remote_run_id = ?`),
      remoteIds: sql.lazy('SELECT remote_run_id, run_id FROM sync_runs WHERE remote = ? AND remote_run_id IS NOT NULL', (s) => s.raw(true)),
      begin: sql.lazy(`INSERT INTO sync_runs (run_id, remote, origin) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      setRemote: sql.lazy('UPDATE sync_runs SET remote_run_id = ?, remote_experiment_id = ?, artifact_uri = ? WHERE run_id = ? AND remote = ?'),
      setState: sql.lazy('UPDATE sync_runs SET state = ?, synced_at = ? WHERE run_id = ? AND remote = ?'),
      setUncertain: sql.lazy('UPDATE sync_runs SET uncertain = ? WHERE run_id = ? AND remote = ?'),
      sent: sql.lazy('SELECT key, value FROM sync_sent WHERE run_id = ? AND remote = ? AND kind = ?', (s) => s.raw(true)),
      markSent: sql.lazy(
        'INSERT INTO sync_sent (run_id, remote, kind, key, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
      ),
      setRunRemote: sql.lazy('UPDATE runs SET remote = ? WHERE id = ?'),
      runRemote: sql.lazy('SELECT remote FROM runs WHERE id = ?', (s) => s.pluck()),
      // One statement for a page of runs. A pushed run changed when its status, end or name differ
      // from what was sent, a metric has steps past the last sent, or a param or tag was not sent.
      badges: sql.lazy(
        `SELECT r.id, r.remote IS NOT NULL AS pulled,
           EXISTS (SELECT 1 FROM sync_runs s WHERE s.run_id = r.id AND s.origin = 'pushed' AND s.remote_run_id IS NOT NULL) AS pushed,
           EXISTS (SELECT 1 FROM sync_runs s WHERE s.run_id = r.id AND s.origin = 'pushed' AND (
             s.state <> json_array(r.status, r.ended_at, r.name)
             OR EXISTS (SELECT 1 FROM metric_summaries m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = r.id
               AND m.last_step > coalesce((SELECT CAST(x.value AS INTEGER) FROM sync_sent x WHERE x.run_id = r.id AND x.remote = s.remote AND x.kind = 'metric' AND x.key = k.name), -9223372036854775808))
             OR EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id
               AND NOT EXISTS (SELECT 1 FROM sync_sent x WHERE x.run_id = r.id AND x.remote = s.remote AND x.kind = 'param' AND x.key = p.key AND x.value = p.value))
             OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id
               AND NOT EXISTS (SELECT 1 FROM sync_sent x WHERE x.run_id = r.id AND x.remote = s.remote AND x.kind = 'tag' AND x.key = t.key AND x.value = t.value))
           )) AS changed
         FROM runs r WHERE r.id IN (SELECT value FROM json_each(?))`,
        (s) => s.raw(true),
      ),
      pointsAfter: sql.lazy(
        `SELECT m.step, m.wall + r.created_at, m.value FROM metrics m JOIN runs r ON r.id = m.run_id
         WHERE m.run_id = ? AND m.key_id = (SELECT id FROM metric_keys WHERE name = ?) AND m.step > ? ORDER BY m.step LIMIT ?`,
        (s) => s.raw(true),
      ),
    };
  }

  link(runId: number, remote: string): SyncLink | undefined {
    const row = this.s.link().get(runId, remote) as LinkRow | undefined;
    return row && toLink(row);
  }

  /** Every remote a run is linked to. */
  links(runId: number): SyncLink[] {
    return (this.s.links().all(runId) as LinkRow[]).map(toLink);
  }

  /** The local run linked to a remote run, pushed or pulled. */
  byRemoteRunId(remote: string, remoteRunId: string): SyncLink | undefined {
    const row = this.s.byRemoteId().get(remote, remoteRunId) as LinkRow | undefined;
    return row && toLink(row);
  }

  /** Remote run id → local run id, for every run linked to the remote. */
  remoteRunIds(remote: string): Map<string, number> {
    return new Map(this.s.remoteIds().all(remote) as [string, number][]);
  }

  /** Records that the run's creation on the remote is about to be sent (kept if it already was). */
  begin(runId: number, remote: string, origin: SyncOrigin): void {
    this.s.begin().run(runId, remote, origin);
  }

  setRemoteRun(runId: number, remote: string, ids: { remoteRunId: string; remoteExperimentId: string; artifactUri: string | null }): void {
    this.s.setRemote().run(ids.remoteRunId, ids.remoteExperimentId, ids.artifactUri, runId, remote);
  }

  setState(runId: number, remote: string, state: string, at = Date.now()): void {
    this.s.setState().run(state, at, runId, remote);
    this.sql.emit(change({ runs: [runId] }));
  }

  setUncertain(runId: number, remote: string, uncertain: boolean): void {
    this.s.setUncertain().run(uncertain ? 1 : 0, runId, remote);
  }

  sent(runId: number, remote: string, kind: SentKind): Map<string, string> {
    return new Map(this.s.sent().all(runId, remote, kind) as [string, string][]);
  }

  /** What one answered request delivered, in one transaction (with the uncertainty it settles). */
  markSent(runId: number, remote: string, kind: SentKind, entries: Iterable<readonly [string, string]>, settled = false): void {
    this.sql.transaction(() => {
      for (const [key, value] of entries) this.s.markSent().run(runId, remote, kind, key, value);
      if (settled) this.s.setUncertain().run(0, runId, remote);
    });
  }

  /** Marks a run as pulled from `remote` (read-only here). */
  markPulled(runId: number, remote: string, remoteRunId: string, experimentId: string): void {
    this.sql.transaction(() => {
      this.s.begin().run(runId, remote, 'pulled');
      this.s.setRemote().run(remoteRunId, experimentId, null, runId, remote);
      this.s.setRunRemote().run(remote, runId);
    });
  }

  /** The remote a run was pulled from; null for a run recorded here. */
  runRemote(runId: number): string | null {
    return (this.s.runRemote().get(runId) as string | null | undefined) ?? null;
  }

  /** The badge of each run that has one (a run only recorded here has none). */
  badges(runIds: readonly number[]): Map<number, SyncBadge> {
    const badges = new Map<number, SyncBadge>();
    if (runIds.length === 0) return badges;
    for (const [id, pulled, pushed, changed] of this.s.badges().all(JSON.stringify(runIds)) as [number, number, number, number][]) {
      if (pulled) badges.set(id, 'remote');
      else if (changed) badges.set(id, 'changed');
      else if (pushed) badges.set(id, 'pushed');
    }
    return badges;
  }

  /** Up to `limit` points of a series after `afterStep`, in step order, with absolute walls. */
  pointsAfter(runId: number, key: string, afterStep: number, limit: number): StoredPoint[] {
    return this.s.pointsAfter().all(runId, key, afterStep, limit) as StoredPoint[];
  }
}

function toLink(row: LinkRow): SyncLink {
  return {
    runId: row.run_id,
    remote: row.remote,
    origin: row.origin,
    remoteRunId: row.remote_run_id,
    remoteExperimentId: row.remote_experiment_id,
    artifactUri: row.artifact_uri,
    state: row.state,
    uncertain: row.uncertain === 1,
    syncedAt: row.synced_at,
  };
}
