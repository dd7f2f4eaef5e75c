import type { Connection } from './connection.ts';
import type { Statement } from './db.ts';
import { setOwn } from '../own.ts';
import { NOT_DELETED } from './runs.ts';
import type { RunStatus } from './types.ts';

/** A metric of a run as the runs table shows it. NaN when the series has no such value (a NaN last point, no finite point for min/max). */
export interface RunTableMetric {
  last: number;
  /** Over finite values only. */
  min: number;
  max: number;
  count: number;
  /** NaN and ±Inf points. */
  nonfinite: number;
}

/** One run of the runs table: its record, commit, first model artifact, params and metric summaries. */
export interface RunTableRow {
  id: number;
  name: string;
  experiment: string;
  status: RunStatus;
  parentId: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  commit: string | null;
  dirty: boolean;
  /** The path (in the run's folder) of its first model file, what Register Model offers. */
  modelArtifact: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, RunTableMetric>;
}

type RunRowTuple = [number, string, string, RunStatus, number | null, number, number | null, number | null, string | null, number | null, string | null];
/** A param or tag: run, key, value. */
type KeyValueTuple = [number, string, string];
type SummaryTuple = [number, number, number | null, number | null, number | null, number, number];

const nullToNaN = (x: number | null): number => (x === null ? NaN : x);

const RUNS = `SELECT r.id, r.name, e.name, r.status, r.parent_id, r.created_at, r.started_at, r.ended_at, c.git_commit, c.dirty,
    (SELECT a.path FROM artifacts a WHERE a.run_id = r.id AND a.kind = 'model' ORDER BY a.path LIMIT 1)
  FROM runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN code_states c ON c.run_id = r.id WHERE ${NOT_DELETED}`;
const SUMMARIES = 'SELECT run_id, key_id, last, min, max, count, nonfinite FROM metric_summaries';
const IDS = 'IN (SELECT value FROM json_each(?))';

/**
 * Every run with its params, tags and metric summaries in five statements whatever the count
 * (runs, params, tags, summaries, metric names), read as tuples: the runs table's one query, and its live
 * updates for the runs a change names.
 */
export class RunTableQueries {
  private readonly s;

  constructor(sql: Connection) {
    const raw = (text: string) => sql.lazy(text, (s) => s.raw());
    this.s = {
      allRuns: raw(`${RUNS} ORDER BY r.id DESC`),
      someRuns: raw(`${RUNS} AND r.id ${IDS} ORDER BY r.id DESC`),
      allParams: raw('SELECT run_id, key, value FROM params'),
      someParams: raw(`SELECT run_id, key, value FROM params WHERE run_id ${IDS}`),
      allTags: raw('SELECT run_id, key, value FROM tags'),
      someTags: raw(`SELECT run_id, key, value FROM tags WHERE run_id ${IDS}`),
      allSummaries: raw(SUMMARIES),
      someSummaries: raw(`${SUMMARIES} WHERE run_id ${IDS}`),
      keys: raw('SELECT id, name FROM metric_keys'),
    };
  }

  /** Every run, newest first; or only those of `ids` (that still exist). Runs deleted through the MLflow API are left out, as in every list. */
  rows(ids?: readonly number[]): RunTableRow[] {
    const idsJson = ids && JSON.stringify(ids);
    const runs = (idsJson === undefined ? this.s.allRuns().all() : this.s.someRuns().all(idsJson)) as RunRowTuple[];
    const byId = new Map<number, RunTableRow>();
    const rows = runs.map(([id, name, experiment, status, parentId, createdAt, startedAt, endedAt, commit, dirty, modelArtifact]) => {
      const row: RunTableRow = { id, name, experiment, status, parentId, createdAt, startedAt, endedAt, commit, dirty: dirty === 1, modelArtifact, params: {}, tags: {}, metrics: {} };
      byId.set(id, row);
      return row;
    });
    if (rows.length === 0) return rows;
    const pairs = (all: () => Statement, some: () => Statement, field: 'params' | 'tags') => {
      for (const [runId, key, value] of (idsJson === undefined ? all().all() : some().all(idsJson)) as KeyValueTuple[]) {
        const row = byId.get(runId);
        if (row) setOwn(row[field], key, value);
      }
    };
    pairs(this.s.allParams, this.s.someParams, 'params');
    pairs(this.s.allTags, this.s.someTags, 'tags');
    const keyNames = new Map(this.s.keys().all() as [number, string][]);
    const summaries = (idsJson === undefined ? this.s.allSummaries().all() : this.s.someSummaries().all(idsJson)) as SummaryTuple[];
    for (const [runId, keyId, last, min, max, count, nonfinite] of summaries) {
      const row = byId.get(runId);
      const key = keyNames.get(keyId);
      if (!row || key === undefined) continue;
      const metric: RunTableMetric = { last: nullToNaN(last), min: nullToNaN(min), max: nullToNaN(max), count, nonfinite };
      setOwn(row.metrics, key, metric);
    }
    return rows;
  }
}
