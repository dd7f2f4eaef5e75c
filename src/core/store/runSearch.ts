import type { RunFilterAst } from '../../shared/runFilter.ts';
import type { Connection } from './connection.ts';
import type { Statement } from './db.ts';
import { runFilterSql } from './runFilterSql.ts';
import { RUN_COLUMNS, RUN_TAGS, toRun, type RunRow } from './runs.ts';
import type { Run } from './types.ts';

/** What a sort key names: a metric's last value, a param, a tag, a run attribute, or the status. */
export type SearchTarget = { kind: 'metric' | 'param' | 'tag'; key: string } | { kind: 'attribute'; attribute: string } | { kind: 'status' };

export interface SearchOrderKey {
  target: SearchTarget;
  descending: boolean;
}

export interface RunSearch {
  experimentIds: readonly number[];
  /** MLflow's view type: runs not deleted, deleted ones, or both. */
  lifecycle: 'active' | 'deleted' | 'all';
  filter?: RunFilterAst;
  order: readonly SearchOrderKey[];
  limit: number;
  offset: number;
}

const ATTRIBUTE_ORDER: Record<string, string> = {
  name: 'r.name',
  experiment: 'e.name',
  run_id: 'r.mlflow_id',
  user_id: 'r.user',
  id: 'r.id',
  start_time: 'coalesce(r.started_at, r.created_at)',
  end_time: 'r.ended_at',
  duration: 'r.ended_at - r.started_at',
};

/** MLflow's search_runs over the runs table: one statement per query shape, cached. */
export class RunSearches {
  private readonly sql: Connection;
  private readonly shapes = new Map<string, Statement>();

  constructor(sql: Connection) {
    this.sql = sql;
  }

  search(query: RunSearch): Run[] {
    const filter = query.filter?.clauses.length ? runFilterSql(query.filter) : undefined;
    const args: Record<string, unknown> = { ...filter?.args, limit: query.limit, offset: query.offset, experiments: JSON.stringify(query.experimentIds) };
    const conditions = ['r.experiment_id IN (SELECT value FROM json_each(@experiments))'];
    if (query.lifecycle === 'active') conditions.push('r.deleted_at IS NULL');
    if (query.lifecycle === 'deleted') conditions.push('r.deleted_at IS NOT NULL');
    // MLflow's own tags live in Runboard's fields (name, user, parent, commit); its search reads them as tags.
    if (filter) conditions.push(`(${filter.where.replaceAll('FROM tags g WHERE g.run_id = r.id AND', `FROM ${RUN_TAGS} g WHERE`)})`);
    // MLflow's order: the keys asked for, runs lacking a key last either way, then newest start first
    // and the run id breaking ties.
    const order = query.order.flatMap((key, i) => {
      const sql = orderExpression(key.target, `order${i}`, args);
      return [`(${sql}) IS NULL`, `${sql} ${key.descending ? 'DESC' : 'ASC'}`];
    });
    order.push('coalesce(r.started_at, r.created_at) DESC', 'r.mlflow_id ASC');
    const text = `SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
      WHERE ${conditions.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT @limit OFFSET @offset`;
    return (this.statement(text).all(args) as RunRow[]).map(toRun);
  }

  private statement(text: string): Statement {
    let statement = this.shapes.get(text);
    if (!statement) {
      if (this.shapes.size >= 64) this.shapes.clear();
      this.shapes.set(text, (statement = this.sql.prepare(text)));
    }
    return statement;
  }
}

function orderExpression(target: SearchTarget, name: string, args: Record<string, unknown>): string {
  switch (target.kind) {
    case 'status':
      return 'r.status';
    case 'attribute': {
      const sql = ATTRIBUTE_ORDER[target.attribute];
      if (!sql) throw new Error(`no run attribute ${target.attribute} to sort by`);
      return sql;
    }
    case 'metric':
      args[name] = target.key;
      return `(SELECT s.last FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = r.id AND k.name = @${name})`;
    case 'param':
      args[name] = target.key;
      return `(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = @${name})`;
    case 'tag':
      args[name] = target.key;
      return `(SELECT g.value FROM ${RUN_TAGS} g WHERE g.key = @${name})`;
  }
}
