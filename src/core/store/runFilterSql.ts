import type { LikePart, NumberAttribute, RunFilterAst, RunFilterClause, TextAttribute, ValueTest } from '../../shared/runFilter.ts';

/** A WHERE fragment over `runs r JOIN experiments e` and the values it binds (named `@rf…`). */
export interface FilterSql {
  where: string;
  args: Record<string, unknown>;
}

// Text that reads as a number (a digit, and only digits, sign, point and exponent), as
// src/shared/runFilter.ts's numberInText reads it in memory.
export const NUMERIC = (column: string) => `(${column} GLOB '*[0-9]*' AND ${column} NOT GLOB '*[^0-9eE.+-]*')`;
const SQL_OP = { '<': '<', '<=': '<=', '>': '>', '>=': '>=', '=': '=', '!=': '<>' } as const;

/** A value's SQL and whether it is a number (else text, compared as a number only when it reads as one). */
interface Column {
  sql: string;
  numeric: boolean;
}

const ATTRIBUTE_COLUMNS: Record<TextAttribute | NumberAttribute, Column> = {
  name: { sql: 'r.name', numeric: false },
  experiment: { sql: 'e.name', numeric: false },
  run_id: { sql: 'r.mlflow_id', numeric: false },
  user_id: { sql: 'r.user', numeric: false },
  id: { sql: 'r.id', numeric: true },
  start_time: { sql: 'r.started_at', numeric: true },
  end_time: { sql: 'r.ended_at', numeric: true },
  duration: { sql: '(coalesce(r.ended_at, @rfNow) - r.started_at) / 1000.0', numeric: true },
};

const KEYED_ROWS = {
  metric: (key: string) => `SELECT 1 FROM metric_summaries s WHERE s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = ${key})`,
  param: (key: string) => `SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ${key}`,
  tag: (key: string) => `SELECT 1 FROM tags g WHERE g.run_id = r.id AND g.key = ${key}`,
} as const;
const KEYED_VALUE: Record<'metric' | 'param' | 'tag', Column> = {
  // The unary + keeps SQLite from answering the EXISTS through metric_summaries(key_id, last),
  // which scans every run's value per run (1 s on 10,000 runs) instead of one primary-key lookup.
  metric: { sql: '+s.last', numeric: true },
  param: { sql: 'p.value', numeric: false },
  tag: { sql: 'g.value', numeric: false },
};

/** `%`/`_` as GLOB's `*`/`?` (GLOB is case-sensitive, as MLflow's LIKE), its own wildcards bracketed. */
const globOf = (pattern: LikePart[]) => pattern.map((p) => (p === '%' ? '*' : p === '_' ? '?' : p.literal.replace(/[*?[]/g, '[$&]'))).join('');
/** SQLite's LIKE folds ASCII case, as ILIKE wants; a backslash escapes literal wildcards. */
const likeOf = (pattern: LikePart[]) => pattern.map((p) => (typeof p === 'string' ? p : p.literal.replace(/[\\%_]/g, '\\$&'))).join('');

/**
 * The filter as SQL with the same answers as compileRunFilter in memory: a metric is its last
 * value (a NaN, stored as NULL, and a missing key match no comparison, `!=` included), params and
 * tags are text compared as numbers only by `<`… or an unquoted number.
 */
export function runFilterSql(ast: RunFilterAst, now = Date.now()): FilterSql {
  const args: Record<string, unknown> = {};
  const bind = (value: unknown) => {
    const name = `rf${Object.keys(args).length}`;
    args[name] = value;
    return `@${name}`;
  };
  const conditions = ast.clauses.map((clause) => clauseSql(clause, bind));
  if (conditions.some((c) => c.includes('@rfNow'))) args.rfNow = now;
  return { where: conditions.length ? conditions.map((c) => `(${c})`).join(' AND ') : '1', args };
}

type Bind = (value: unknown) => string;

function clauseSql(clause: RunFilterClause, bind: Bind): string {
  if (clause.kind === 'status') return clause.statuses.length ? `r.status IN (${clause.statuses.map(bind).join(', ')})` : '0';
  if (clause.kind === 'attribute') {
    const column = ATTRIBUTE_COLUMNS[clause.attribute];
    return clause.test.type === 'present' ? `${column.sql} IS ${clause.test.negated ? '' : 'NOT '}NULL` : testSql(clause.test, column, bind);
  }
  const rows = KEYED_ROWS[clause.kind](bind(clause.key));
  if (clause.test.type === 'present') return `${clause.test.negated ? 'NOT ' : ''}EXISTS (${rows})`;
  return `EXISTS (${rows} AND ${testSql(clause.test, KEYED_VALUE[clause.kind], bind)})`;
}

/** The test on a column; a NULL column (the run lacks the value) makes every test NULL, so no match. */
function testSql(test: Exclude<ValueTest, { type: 'present' }>, { sql: column, numeric }: Column, bind: Bind): string {
  const asNumber = (op: string, value: number) =>
    numeric ? `${column} ${op} ${bind(value)}` : `(${NUMERIC(column)} AND CAST(${column} AS REAL) ${op} ${bind(value)})`;
  switch (test.type) {
    case 'compare':
      return asNumber(SQL_OP[test.op], test.value);
    case 'text': {
      const equal = test.number === undefined ? `${column} = ${bind(test.value)}` : `(${column} = ${bind(test.value)} OR ${asNumber('=', test.number)})`;
      // NOT keeps NULL (a missing value) NULL: a run without it matches neither = nor !=.
      return test.op === '=' ? equal : `NOT ${equal}`;
    }
    case 'like':
      return test.caseless ? `${column} LIKE ${bind(likeOf(test.pattern))} ESCAPE '\\'` : `${column} GLOB ${bind(globOf(test.pattern))}`;
    case 'in':
      return `${column} ${test.negated ? 'NOT IN' : 'IN'} (${test.values.map(bind).join(', ')})`;
    default: {
      const never: never = test;
      throw new Error(`unknown test ${JSON.stringify(never)}`);
    }
  }
}
