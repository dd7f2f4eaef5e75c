// The only module that imports the SQLite driver.
import Database from 'better-sqlite3';
import { accessSync, constants, copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
 * A database on a read-only disk or folder opens for reading; opening it for writing says what is
 * read-only.
 */
export function openDb(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? loadMigrations();
  let readonly = options.readonly ?? false;
  if (!readonly && file !== ':memory:') requireWritable(file);
  if (readonly && !existsSync(file)) {
    throw new UserError(`No Runboard database at ${file}. Launch a run first, or pass --db.`);
  }
  let db: Db | undefined;
  try {
    // Read-only until the schema version is known: switching a newer database to WAL would
    // rewrite its header, and migrate() refuses it without a byte changed.
    if (!readonly && existsSync(file)) readonly = schemaVersion(file) > migrations.length;
    db = readonly ? openForReading(file) : connect(file, false);
    if (!readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file, migrations, readonly);
    return db;
  } catch (err) {
    db?.close();
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

let uriFilenames = false;

/**
 * One connection. The first one loads the driver's addon, which reads SQLITE_USE_URI only then:
 * URI filenames are turned on for the process (only names starting `file:` are parsed, and
 * Runboard's are absolute paths) so that a database on read-only media can be opened `immutable`;
 * the variable is put back at once, so no child process inherits it.
 */
function connect(name: string, readonly: boolean): Db {
  const before = process.env.SQLITE_USE_URI;
  if (!uriFilenames) process.env.SQLITE_USE_URI = '1';
  try {
    return new Database(name, { readonly, fileMustExist: readonly, timeout: 10_000 });
  } catch (err) {
    throw new UserError(`Cannot open the Runboard database ${name}: ${(err as Error).message}`);
  } finally {
    if (!uriFilenames) {
      uriFilenames = true;
      if (before === undefined) delete process.env.SQLITE_USE_URI;
      else process.env.SQLITE_USE_URI = before;
    }
  }
}

function schemaVersion(file: string): number {
  const probe = connect(file, true);
  try {
    return probe.pragma('user_version', { simple: true }) as number;
  } finally {
    probe.close();
  }
}

/**
 * A reading connection. Readers of a WAL database share a `-shm` file next to it; where that
 * cannot be created (a read-only disk or folder) the file is opened `immutable`, without locks,
 * which is sound only while nobody writes it: a `-wal` holding changes says someone does, or did
 * and could not merge them, so then it is refused rather than read stale.
 */
function openForReading(file: string): Db {
  const db = connect(file, true);
  try {
    db.pragma('user_version'); // the first read is where a missing -shm shows
    return db;
  } catch (err) {
    db.close();
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !/^SQLITE_(CANTOPEN|READONLY)/.test(code)) throw err;
    if ((statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0) {
      throw new UserError(
        `${file} cannot be read here (${code}): its folder is read-only and ${file}-wal holds changes not yet merged into it. Copy the folder somewhere writable and read the copy.`,
      );
    }
    return connect(`file:${file.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}?immutable=1`, true);
  }
}

/** Nothing can be recorded in a read-only place: say which file or folder, before SQLite fails somewhere inside. */
function requireWritable(file: string): void {
  const dir = dirname(file);
  try {
    ensureDataDir(dir);
    accessSync(dir, constants.W_OK); // WAL and journal files are made next to the database
    if (existsSync(file)) accessSync(file, constants.W_OK);
  } catch (err) {
    const { code, path } = err as NodeJS.ErrnoException;
    if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') throw err;
    const what = code === 'EROFS' ? `${file} is on a read-only file system (EROFS)` : `${path ?? dir} is not writable for this user (${code})`;
    throw new UserError(
      `${what}: nothing can be recorded in this database. Commands that only read it (runs, show, metrics, compare, check) still work; to record, pass a writable --db FILE or set RUNBOARD_DB.`,
    );
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
