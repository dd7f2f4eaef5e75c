// The only module that imports the SQLite driver.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { migrationsDir } from '../paths.ts';
import { ensureDataDir } from '../workspace.ts';

export type Db = Database.Database;
export type Statement = Database.Statement;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered `NNNN_name.sql` files, in order. Gaps or duplicates are a packaging bug. */
export function loadMigrations(dir = migrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Runboard: migration ${m.name} is out of sequence`);
  });
  return migrations;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Overrides the shipped migrations (tests use this to exercise failures). */
  migrations?: Migration[];
}

/**
 * Opens (creating if needed) a Runboard database, in WAL mode, migrated to the current schema.
 * Refuses a database written by a newer Runboard, and turns a corrupted file into a clear error.
 */
export function openDb(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? loadMigrations();
  if (!options.readonly && file !== ':memory:') ensureDataDir(dirname(file));
  if (options.readonly && !existsSync(file)) {
    throw new UserError(`No Runboard database at ${file}. Launch a run first, or pass --db.`);
  }
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, timeout: 10_000 });
  } catch (err) {
    throw new UserError(`Cannot open the Runboard database ${file}: ${(err as Error).message}`);
  }
  try {
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file, migrations, options.readonly ?? false);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof UserError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new UserError(
        `${file} is not a readable Runboard database (${code}). It was left untouched; move it away to start afresh, or restore a backup (${file}.bak-*).`,
      );
    }
    throw err;
  }
}

function migrate(db: Db, file: string, migrations: Migration[], readonly: boolean): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) {
    throw new UserError(
      `${file} was written by a newer Runboard (schema ${current}; this version knows up to ${latest}). Update Runboard to open it; the file was not changed.`,
    );
  }
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return;
  if (readonly) {
    throw new UserError(`${file} needs a schema upgrade (${current} → ${latest}); open it once without read-only mode.`);
  }
  if (current > 0 && file !== ':memory:') backup(db, file, current);
  const applyAll = db.transaction(() => {
    // Another process may have migrated while this one waited for the write lock.
    const now = db.pragma('user_version', { simple: true }) as number;
    for (const m of pending.filter((p) => p.version > now)) {
      try {
        db.exec(m.sql);
      } catch (err) {
        throw new UserError(`Migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
      }
      const dangling = db.pragma('foreign_key_check') as { table: string; parent: string }[];
      if (dangling.length > 0) {
        const { table, parent } = dangling[0]!;
        throw new UserError(
          `Migration ${m.name} was rolled back: it left rows of ${table} pointing at missing rows of ${parent} (${dangling.length} in all); the database was not changed.`,
        );
      }
      db.pragma(`user_version = ${m.version}`);
    }
  });
  // Off for the migration, and set outside the transaction (inside one the pragma does nothing):
  // rebuilding a table the way SQLite documents it (create, copy, drop, rename) would otherwise
  // cascade the DROP into every table that references it. foreign_key_check stands in for them.
  db.pragma('foreign_keys = OFF');
  try {
    // IMMEDIATE: take the write lock before reading, so two processes never apply the same step.
    applyAll.immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/** A consistent copy before upgrading: checkpoint the WAL, then copy the main file. */
function backup(db: Db, file: string, version: number): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  const target = `${file}.bak-v${version}`;
  if (!existsSync(target) || statSync(target).size === 0) copyFileSync(file, target);
}
