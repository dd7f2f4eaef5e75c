import { change } from './changes.ts';
import type { Connection } from './connection.ts';
import { EXPERIMENT_COLUMNS } from './runs.ts';
import type { Experiment } from './types.ts';

/** Experiments looked up by id or name, and their tags (which MLflow clients set). */
export class ExperimentRepository {
  private readonly sql: Connection;
  private readonly s;

  constructor(sql: Connection) {
    this.sql = sql;
    this.s = {
      byId: sql.lazy(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e WHERE e.id = ?`),
      byName: sql.lazy(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e WHERE e.name = ?`),
      byIdOrder: sql.lazy(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e ORDER BY e.id`),
      setTag: sql.lazy('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)'),
      tags: sql.lazy('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key'),
      rename: sql.lazy('UPDATE experiments SET name = ?, updated_at = ? WHERE id = ?'),
      setDeleted: sql.lazy('UPDATE experiments SET deleted_at = ?, updated_at = ? WHERE id = ?'),
      setRunsDeleted: sql.lazy('UPDATE runs SET deleted_at = ? WHERE experiment_id = ?'),
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

  rename(id: number, name: string): void {
    this.s.rename().run(name, Date.now(), id);
    this.announce();
  }

  /**
   * Deletes (`at` a time) or restores (null) an experiment with all its runs, as MLflow does: a
   * restore brings back every run of the experiment, those deleted one by one before it too.
   */
  setDeleted(id: number, at: number | null): void {
    this.sql.transaction(() => {
      this.s.setDeleted().run(at, Date.now(), id);
      this.s.setRunsDeleted().run(at, id);
      this.announce();
    });
  }

  /** The experiment list itself changed (no narrower change names experiments). */
  private announce(): void {
    this.sql.emit(change({ everything: true }));
  }
}
