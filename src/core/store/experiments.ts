import type { Connection } from './connection.ts';
import { NOT_DELETED } from './runs.ts';
import type { Experiment } from './types.ts';

const EXPERIMENT_COLUMNS = `e.id, e.name, e.created_at AS createdAt,
  (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id AND ${NOT_DELETED}) AS runCount`;

/** Experiments looked up by id or name, and their tags (which MLflow clients set). */
export class ExperimentRepository {
  private readonly s;

  constructor(sql: Connection) {
    this.s = {
      byId: sql.lazy(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e WHERE e.id = ?`),
      byName: sql.lazy(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e WHERE e.name = ?`),
      byIdOrder: sql.lazy(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e ORDER BY e.id`),
      setTag: sql.lazy('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)'),
      tags: sql.lazy('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key'),
    };
  }

  byId(id: number): Experiment | undefined {
    return this.s.byId().get(id) as Experiment | undefined;
  }

  byName(name: string): Experiment | undefined {
    return this.s.byName().get(name) as Experiment | undefined;
  }

  /** Every experiment, oldest first. */
  list(): Experiment[] {
    return this.s.byIdOrder().all() as Experiment[];
  }

  setTag(experimentId: number, key: string, value: string): void {
    this.s.setTag().run(experimentId, key, value);
  }

  tags(experimentId: number): Record<string, string> {
    return Object.fromEntries((this.s.tags().all(experimentId) as { key: string; value: string }[]).map((t) => [t.key, t.value]));
  }
}
