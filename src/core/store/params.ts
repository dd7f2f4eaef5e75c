import { change } from './changes.ts';
import type { Connection } from './connection.ts';

/** Params and tags: text keyed by run and name. */
export class ParamRepository {
  private readonly sql: Connection;
  private readonly s;

  constructor(sql: Connection) {
    this.sql = sql;
    this.s = {
      setParam: sql.prepare('INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)'),
      params: sql.prepare('SELECT key, value FROM params WHERE run_id = ? ORDER BY key'),
      setTag: sql.prepare('INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)'),
      tags: sql.prepare('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key'),
      deleteTag: sql.lazy('DELETE FROM tags WHERE run_id = ? AND key = ?'),
      runIdWithTag: sql.lazy('SELECT run_id FROM tags WHERE key = ? AND value = ?', (s) => s.pluck()),
      keys: sql.lazy('SELECT DISTINCT key FROM params ORDER BY key', (s) => s.pluck()),
    };
  }

  /** Call inside a transaction: one row per param. */
  setParams(runId: number, params: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(params)) this.s.setParam.run(runId, key, paramText(value));
    this.sql.emit(change({ runs: [runId] }));
  }

  params(runId: number): Record<string, string> {
    return Object.fromEntries((this.s.params.all(runId) as KV[]).map((r) => [r.key, r.value]));
  }

  /** Call inside a transaction. */
  setTags(runId: number, tags: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(tags)) this.s.setTag.run(runId, key, paramText(value));
    this.sql.emit(change({ runs: [runId] }));
  }

  /** False when the run has no such tag. */
  deleteTag(runId: number, key: string): boolean {
    const deleted = this.s.deleteTag().run(runId, key).changes > 0;
    if (deleted) this.sql.emit(change({ runs: [runId] }));
    return deleted;
  }

  tags(runId: number): Record<string, string> {
    return Object.fromEntries((this.s.tags.all(runId) as KV[]).map((r) => [r.key, r.value]));
  }

  runIdWithTag(key: string, value: string): number | undefined {
    return this.s.runIdWithTag().get(key, value) as number | undefined;
  }

  /** Param names recorded anywhere, for filter pickers. */
  keys(): string[] {
    return this.s.keys().all() as string[];
  }
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
