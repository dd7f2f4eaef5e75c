import { Emitter } from '../events.ts';
import { isEmptyChange, mergeChanges, type StoreChange } from './changes.ts';
import type { Db, Statement } from './db.ts';

const EXECUTING = ['run', 'get', 'all', 'iterate'] as const;

/**
 * What the store's repositories share: the one connection, statements that count their
 * executions, transactions, and the change event, which a transaction fires once at commit with
 * everything it touched (a capture flush or a sweep writes many rows but refreshes a view once).
 */
export class Connection {
  readonly db: Db;
  private readonly emitter = new Emitter<StoreChange>();
  readonly onDidChange = this.emitter.event;
  private executed = 0;
  private depth = 0;
  private pending: StoreChange | undefined;
  private readonly rollbackListeners: (() => void)[] = [];

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Statements run through this connection so far: what a view's refresh costs, for the bench and
   * tests. The per-point ingest statements are left out (`counted: false`): a wrapper per point
   * cost several percent of ingest throughput.
   */
  get statementsExecuted(): number {
    return this.executed;
  }

  prepare(sql: string, counted = true): Statement {
    const statement = this.db.prepare(sql);
    if (!counted) return statement;
    for (const method of EXECUTING) {
      const execute = statement[method] as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        this.executed++;
        return execute.apply(statement, args);
      };
    }
    return statement;
  }

  /** A statement prepared on first use, for the rarely run ones. */
  lazy(sql: string, configure: (s: Statement) => Statement = (s) => s): () => Statement {
    let statement: Statement | undefined;
    return () => (statement ??= configure(this.prepare(sql)));
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (nested calls become savepoints). Changes emitted inside
   * fire once, merged, after the outermost commit; a rollback drops them.
   */
  transaction<T>(fn: () => T): T {
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      if (this.depth === 1) this.pending = undefined;
      for (const listener of this.rollbackListeners) listener();
      throw err;
    } finally {
      this.depth--;
    }
    if (this.depth === 0 && this.pending) {
      const change = this.pending;
      this.pending = undefined;
      this.emitter.fire(change);
    }
    return result;
  }

  /** Called when a transaction rolls back, so a cache forgets what the rollback undid. */
  onRollback(listener: () => void): void {
    this.rollbackListeners.push(listener);
  }

  emit(change: StoreChange): void {
    if (isEmptyChange(change)) return;
    if (this.depth > 0) this.pending = this.pending ? mergeChanges(this.pending, change) : change;
    else this.emitter.fire(change);
  }

  close(): void {
    this.emitter.dispose();
    if (this.db.open) this.db.close();
  }
}
