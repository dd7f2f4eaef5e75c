import { change } from './changes.ts';
import type { Connection } from './connection.ts';
import type { LineageRepository } from './lineage.ts';

/** A row of model_versions with its aliases; `snapshot` is the registry's JSON document, kept as text. */
export interface ModelVersionRecord {
  id: number;
  name: string;
  version: number;
  runId: number | null;
  sourcePath: string;
  /** As stored: relative to the workspace. */
  storedPath: string;
  sha256: string;
  size: number;
  noLineage: boolean;
  snapshot: string;
  /** Gates that failed and were overridden with force, if any. */
  forced: string[] | null;
  createdAt: number;
  aliases: string[];
}

export interface NewModelVersion {
  name: string;
  /** The run that produced it; null for a plain file (no lineage). */
  runId: number | null;
  sourcePath: string;
  sha256: string;
  size: number;
  snapshot: string;
  forced: string[] | null;
  aliases: readonly string[];
}

export interface ModelSummary {
  name: string;
  versions: number;
  latest: number;
  aliases: Record<string, number>;
}

export interface AliasMove {
  id: number;
  name: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number;
  movedAt: number;
}

/** A model as MLflow's registry sees it: a created one (even empty), or a name with versions. */
export interface RegisteredModelRecord {
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

const VERSION_COLUMNS = `mv.id, mv.name, mv.version, mv.run_id AS runId, mv.source_path AS sourcePath, mv.stored_path AS storedPath,
  mv.sha256, mv.size, mv.no_lineage AS noLineage, mv.snapshot, mv.forced, mv.created_at AS createdAt,
  (SELECT json_group_array(a.alias) FROM model_aliases a WHERE a.name = mv.name AND a.version = mv.version) AS aliases`;

const MOVE_COLUMNS = 'id, name, alias, from_version AS fromVersion, to_version AS toVersion, moved_at AS movedAt';

/** The registry's tables: numbered versions per model name, aliases and every alias move. */
export class ModelRepository {
  private readonly sql: Connection;
  private readonly lineage: LineageRepository;
  private readonly s;

  constructor(sql: Connection, lineage: LineageRepository) {
    this.sql = sql;
    this.lineage = lineage;
    this.s = {
      nextVersion: sql.prepare('SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?').pluck(),
      versionBelow: sql.lazy('SELECT max(version) FROM model_versions WHERE name = ? AND version < ?', (s) => s.pluck()),
      insert: sql.prepare(`INSERT INTO model_versions (name, version, run_id, source_path, stored_path, sha256, size, no_lineage, snapshot, forced, created_at)
        VALUES (@name, @version, @runId, @sourcePath, @storedPath, @sha256, @size, @noLineage, @snapshot, @forced, @createdAt)`),
      all: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv ORDER BY mv.name, mv.version DESC`),
      ofName: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE mv.name = ? ORDER BY mv.version DESC`),
      get: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE mv.name = ? AND mv.version = ?`),
      byId: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE mv.id = ?`),
      summaries: sql.prepare('SELECT name, count(*) AS versions, max(version) AS latest FROM model_versions GROUP BY name ORDER BY name'),
      aliases: sql.prepare('SELECT name, alias, version FROM model_aliases ORDER BY alias'),
      alias: sql.prepare('SELECT version FROM model_aliases WHERE name = ? AND alias = ?').pluck(),
      setAlias: sql.prepare('INSERT OR REPLACE INTO model_aliases (name, alias, version) VALUES (?, ?, ?)'),
      addMove: sql.prepare('INSERT INTO alias_moves (name, alias, from_version, to_version, moved_at) VALUES (?, ?, ?, ?, ?)'),
      moves: sql.lazy(`SELECT ${MOVE_COLUMNS} FROM alias_moves ORDER BY id DESC`),
      movesOf: sql.lazy(`SELECT ${MOVE_COLUMNS} FROM alias_moves WHERE name = ? ORDER BY id DESC`),
      deleteAlias: sql.lazy('DELETE FROM model_aliases WHERE name = ? AND alias = ?'),
      // A name known either way, its times spanning the row's and its versions' (and alias moves').
      registered: sql.lazy(`SELECT name, coalesce(max(description), '') AS description, min(createdAt) AS createdAt, max(updatedAt) AS updatedAt FROM (
          SELECT name, description, created_at AS createdAt, updated_at AS updatedAt FROM registered_models
          UNION ALL SELECT name, NULL, created_at, created_at FROM model_versions
          UNION ALL SELECT name, NULL, NULL, moved_at FROM alias_moves)
        GROUP BY name HAVING count(createdAt) > 0 ORDER BY name`),
      addRegistered: sql.lazy('INSERT INTO registered_models (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      ensureRegistered: sql.lazy('INSERT OR IGNORE INTO registered_models (name, description, created_at, updated_at) VALUES (?, \'\', ?, ?)'),
      describe: sql.lazy('UPDATE registered_models SET description = ?, updated_at = ? WHERE name = ?'),
    };
  }

  /**
   * Records the next version of `spec.name` in one short IMMEDIATE transaction (the lock is taken
   * before max(version) is read, so two processes never pick one number). `place(version)` puts
   * the already copied and hashed file where that version lives (a rename) and returns its stored path.
   */
  add(spec: NewModelVersion, place: (version: number) => string): number {
    return this.sql.transaction(() => {
      const version = this.s.nextVersion.get(spec.name) as number;
      const storedPath = place(version);
      const { aliases, ...row } = spec;
      const id = Number(
        this.s.insert.run({ ...row, version, storedPath, noLineage: spec.runId === null ? 1 : 0, forced: spec.forced && JSON.stringify(spec.forced), createdAt: Date.now() })
          .lastInsertRowid,
      );
      if (spec.runId !== null) this.lineage.addEdge({ srcKind: 'run', srcId: spec.runId, dstKind: 'model_version', dstId: id, relation: 'produced' });
      for (const alias of aliases) this.moveAlias(spec.name, alias, version);
      this.changed(spec.name);
      return id;
    });
  }

  /** Every version, by name then newest first; or one model's versions. */
  list(name?: string): ModelVersionRecord[] {
    const rows = (name === undefined ? this.s.all.all() : this.s.ofName.all(name)) as VersionRow[];
    return rows.map(toRecord);
  }

  get(name: string, version: number): ModelVersionRecord | undefined {
    const row = this.s.get.get(name, version) as VersionRow | undefined;
    return row && toRecord(row);
  }

  byId(id: number): ModelVersionRecord | undefined {
    const row = this.s.byId.get(id) as VersionRow | undefined;
    return row && toRecord(row);
  }

  summaries(): ModelSummary[] {
    const rows = this.s.summaries.all() as Omit<ModelSummary, 'aliases'>[];
    const aliases = this.s.aliases.all() as { name: string; alias: string; version: number }[];
    return rows.map((r) => ({ ...r, aliases: Object.fromEntries(aliases.filter((a) => a.name === r.name).map((a) => [a.alias, a.version])) }));
  }

  aliasVersion(name: string, alias: string): number | undefined {
    return this.s.alias.get(name, alias) as number | undefined;
  }

  /** The newest version of `name` below `version`. */
  versionBelow(name: string, version: number): number | undefined {
    return (this.s.versionBelow().get(name, version) as number | null) ?? undefined;
  }

  /** Points `alias` at `version`, recording the move; null when it already pointed there. */
  setAlias(name: string, alias: string, version: number): AliasMove | null {
    const move = this.sql.transaction(() => this.moveAlias(name, alias, version));
    if (move) this.changed(name);
    return move;
  }

  /** Alias history, newest first. */
  aliasMoves(name?: string): AliasMove[] {
    return (name === undefined ? this.s.moves().all() : this.s.movesOf().all(name)) as AliasMove[];
  }

  /** Removes an alias; false when there was none. */
  deleteAlias(name: string, alias: string): boolean {
    const removed = this.s.deleteAlias().run(name, alias).changes > 0;
    if (removed) this.changed(name);
    return removed;
  }

  /** Every registered model, created empty or known by its versions, by name. */
  registeredModels(): RegisteredModelRecord[] {
    return this.s.registered().all() as RegisteredModelRecord[];
  }

  /** Creates an empty registered model; false when the name is taken (by a created model or by versions). */
  createRegistered(name: string, description: string): boolean {
    return this.sql.transaction(() => {
      if (this.registeredModels().some((m) => m.name === name)) return false;
      const now = Date.now();
      this.s.addRegistered().run(name, description, now, now);
      this.changed(name);
      return true;
    });
  }

  /** Sets a model's description (a model known only by its versions gets its row here). */
  describe(name: string, description: string): void {
    this.sql.transaction(() => {
      const now = Date.now();
      this.s.ensureRegistered().run(name, now, now);
      this.s.describe().run(description, now, name);
    });
    this.changed(name);
  }

  private moveAlias(name: string, alias: string, version: number): AliasMove | null {
    const from = this.aliasVersion(name, alias);
    if (from === version) return null;
    this.s.setAlias.run(name, alias, version);
    const movedAt = Date.now();
    const id = Number(this.s.addMove.run(name, alias, from ?? null, version, movedAt).lastInsertRowid);
    return { id, name, alias, fromVersion: from ?? null, toVersion: version, movedAt };
  }

  private changed(name: string): void {
    this.sql.emit(change({ models: [name] }));
  }
}

type VersionRow = Omit<ModelVersionRecord, 'noLineage' | 'forced' | 'aliases'> & { noLineage: number; forced: string | null; aliases: string };

function toRecord(r: VersionRow): ModelVersionRecord {
  return { ...r, noLineage: r.noLineage === 1, forced: r.forced === null ? null : JSON.parse(r.forced), aliases: (JSON.parse(r.aliases) as string[]).sort() };
}
