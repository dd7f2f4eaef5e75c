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
  description: string;
  /** MLflow's stage: None, Staging, Production or Archived. */
  stage: string;
  /** When its description, stage or name last changed (its creation until then). */
  updatedAt: number;
  /** Set when deleted: the row stays so its number is never reused and its deployments still resolve. */
  deletedAt: number | null;
  tags: Record<string, string>;
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
  /** null: the alias was removed. */
  toVersion: number | null;
  movedAt: number;
}

/** A model as MLflow's registry sees it: a created one (even empty), or a name with versions. */
export interface RegisteredModelRecord {
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
}

/** Live (not deleted) versions only. */
const LIVE = 'mv.deleted_at IS NULL';

const VERSION_COLUMNS = `mv.id, mv.name, mv.version, mv.run_id AS runId, mv.source_path AS sourcePath, mv.stored_path AS storedPath,
  mv.sha256, mv.size, mv.no_lineage AS noLineage, mv.snapshot, mv.forced, mv.created_at AS createdAt,
  (SELECT json_group_array(a.alias) FROM model_aliases a WHERE a.name = mv.name AND a.version = mv.version) AS aliases,
  mv.description, mv.stage, coalesce(mv.updated_at, mv.created_at) AS updatedAt, mv.deleted_at AS deletedAt,
  (SELECT json_group_object(t.key, t.value) FROM model_version_tags t WHERE t.model_version_id = mv.id) AS tags`;

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
      versionBelow: sql.lazy(`SELECT max(version) FROM model_versions mv WHERE name = ? AND version < ? AND ${LIVE}`, (s) => s.pluck()),
      insert: sql.prepare(`INSERT INTO model_versions (name, version, run_id, source_path, stored_path, sha256, size, no_lineage, snapshot, forced, created_at)
        VALUES (@name, @version, @runId, @sourcePath, @storedPath, @sha256, @size, @noLineage, @snapshot, @forced, @createdAt)`),
      all: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE ${LIVE} ORDER BY mv.name, mv.version DESC`),
      ofName: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE mv.name = ? AND ${LIVE} ORDER BY mv.version DESC`),
      get: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE mv.name = ? AND mv.version = ? AND ${LIVE}`),
      // Deleted ones too: a deployment or a lineage edge may name one.
      byId: sql.prepare(`SELECT ${VERSION_COLUMNS} FROM model_versions mv WHERE mv.id = ?`),
      summaries: sql.prepare(`SELECT name, count(*) AS versions, max(version) AS latest FROM model_versions mv WHERE ${LIVE} GROUP BY name ORDER BY name`),
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
          UNION ALL SELECT name, NULL, created_at, coalesce(updated_at, created_at) FROM model_versions mv WHERE ${LIVE}
          UNION ALL SELECT name, NULL, NULL, moved_at FROM alias_moves)
        GROUP BY name HAVING count(createdAt) > 0 ORDER BY name`),
      modelTags: sql.lazy('SELECT name, key, value FROM registered_model_tags ORDER BY name, key'),
      addRegistered: sql.lazy('INSERT INTO registered_models (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      ensureRegistered: sql.lazy('INSERT OR IGNORE INTO registered_models (name, description, created_at, updated_at) VALUES (?, \'\', ?, ?)'),
      describe: sql.lazy('UPDATE registered_models SET description = ?, updated_at = ? WHERE name = ?'),
      touchModel: sql.lazy('UPDATE registered_models SET updated_at = ? WHERE name = ?'),
      describeVersion: sql.lazy('UPDATE model_versions SET description = ?, updated_at = ? WHERE id = ?'),
      setStage: sql.lazy('UPDATE model_versions SET stage = ?, updated_at = ? WHERE id = ?'),
      archiveStage: sql.lazy(`UPDATE model_versions SET stage = 'Archived', updated_at = ? WHERE name = ? AND stage = ? AND id <> ? AND deleted_at IS NULL`),
      deleteVersion: sql.lazy('UPDATE model_versions SET deleted_at = ?, updated_at = ? WHERE id = ?'),
      aliasesOf: sql.lazy('SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias', (s) => s.pluck()),
      deleteRegistered: sql.lazy('DELETE FROM registered_models WHERE name = ?'),
      deleteModelTags: sql.lazy('DELETE FROM registered_model_tags WHERE name = ?'),
      setModelTag: sql.lazy('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)'),
      deleteModelTag: sql.lazy('DELETE FROM registered_model_tags WHERE name = ? AND key = ?'),
      setVersionTag: sql.lazy('INSERT OR REPLACE INTO model_version_tags (model_version_id, key, value) VALUES (?, ?, ?)'),
      deleteVersionTag: sql.lazy('DELETE FROM model_version_tags WHERE model_version_id = ? AND key = ?'),
      // A rename moves the whole history: deleted versions, aliases, their moves and the tags.
      deletedVersionsOf: sql.lazy('SELECT version FROM model_versions WHERE name = ? AND deleted_at IS NOT NULL ORDER BY version', (s) => s.pluck()),
      renameVersions: sql.lazy(`UPDATE model_versions SET name = @to, updated_at = @now,
          stored_path = CASE WHEN substr(stored_path, 1, length(@fromPrefix)) = @fromPrefix THEN @toPrefix || substr(stored_path, length(@fromPrefix) + 1) ELSE stored_path END
        WHERE name = @from`),
      renameRegistered: sql.lazy('UPDATE registered_models SET name = ?, updated_at = ? WHERE name = ?'),
      renameAliases: sql.lazy('UPDATE model_aliases SET name = ? WHERE name = ?'),
      renameMoves: sql.lazy('UPDATE alias_moves SET name = ? WHERE name = ?'),
      renameModelTags: sql.lazy('UPDATE registered_model_tags SET name = ? WHERE name = ?'),
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

  /** Removes an alias, recording the removal as a move to no version; null when there was none. */
  deleteAlias(name: string, alias: string): AliasMove | null {
    const move = this.sql.transaction(() => this.removeAlias(name, alias));
    if (move) this.changed(name);
    return move;
  }

  /** Every registered model, created empty or known by its versions, by name. */
  registeredModels(): RegisteredModelRecord[] {
    const tags = this.s.modelTags().all() as { name: string; key: string; value: string }[];
    return (this.s.registered().all() as Omit<RegisteredModelRecord, 'tags'>[]).map((m) => ({
      ...m,
      tags: Object.fromEntries(tags.filter((t) => t.name === m.name).map((t) => [t.key, t.value])),
    }));
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

  /** Sets a version's description (MLflow's update_model_version). */
  describeVersion(id: number, description: string): void {
    this.touch(id, () => this.s.describeVersion().run(description, Date.now(), id));
  }

  /** Moves a version to an MLflow stage; `archiveOthers` archives the model's other versions in that stage. */
  setStage(id: number, stage: string, archiveOthers: boolean): void {
    this.touch(id, () => {
      const now = Date.now();
      if (archiveOthers) this.s.archiveStage().run(now, this.byId(id)!.name, stage, id);
      this.s.setStage().run(stage, now, id);
    });
  }

  setVersionTag(id: number, key: string, value: string): void {
    this.touch(id, () => this.s.setVersionTag().run(id, key, value));
  }

  deleteVersionTag(id: number, key: string): void {
    this.touch(id, () => this.s.deleteVersionTag().run(id, key));
  }

  setModelTag(name: string, key: string, value: string): void {
    this.s.setModelTag().run(name, key, value);
    this.changed(name);
  }

  deleteModelTag(name: string, key: string): void {
    if (this.s.deleteModelTag().run(name, key).changes > 0) this.changed(name);
  }

  /**
   * Marks versions deleted (kept, hidden) and removes the aliases that named them, recording each
   * removal. The model stays, empty if it was its last version, as in MLflow. Call inside a
   * transaction that has checked nothing still serves them. Returns the removals of aliases.
   */
  deleteVersions(name: string, versions: readonly number[]): AliasMove[] {
    const now = Date.now();
    const aliases: AliasMove[] = [];
    this.s.ensureRegistered().run(name, now, now);
    this.s.touchModel().run(now, name);
    for (const version of versions) {
      const id = this.get(name, version)?.id;
      if (id === undefined) continue;
      for (const alias of this.s.aliasesOf().all(name, version) as string[]) aliases.push(this.removeAlias(name, alias)!);
      this.s.deleteVersion().run(now, now, id);
    }
    this.changed(name);
    return aliases;
  }

  /** Deletes a registered model: its versions as deleteVersions does, its row and its tags. */
  deleteModel(name: string): AliasMove[] {
    return this.sql.transaction(() => {
      const deleted = this.deleteVersions(name, this.list(name).map((v) => v.version));
      this.s.deleteRegistered().run(name);
      this.s.deleteModelTags().run(name);
      return deleted;
    });
  }

  /** Versions of `name` that were deleted: their numbers stay taken. */
  deletedVersions(name: string): number[] {
    return this.s.deletedVersionsOf().all(name) as number[];
  }

  /**
   * Renames a model and its whole history (versions, deleted ones too, aliases and their moves,
   * tags); stored paths under `fromPrefix` move to `toPrefix`. `moveFiles` runs last, inside the
   * transaction, so a failure to move the folder leaves the rows as they were.
   */
  renameModel(from: string, to: string, paths: { fromPrefix: string; toPrefix: string }, moveFiles: () => void): void {
    this.sql.transaction(() => {
      const now = Date.now();
      this.s.ensureRegistered().run(from, now, now);
      this.s.renameRegistered().run(to, now, from);
      this.s.renameVersions().run({ from, to, now, ...paths });
      this.s.renameAliases().run(to, from);
      this.s.renameMoves().run(to, from);
      this.s.renameModelTags().run(to, from);
      moveFiles();
      this.changed(from);
      this.changed(to);
    });
  }

  /** A write to one version, which also updates its model's time (MLflow's last_updated_timestamp). */
  private touch(id: number, write: () => void): void {
    const name = this.byId(id)!.name;
    this.sql.transaction(() => {
      write();
      this.s.touchModel().run(Date.now(), name);
    });
    this.changed(name);
  }

  private removeAlias(name: string, alias: string): AliasMove | null {
    const from = this.aliasVersion(name, alias);
    if (from === undefined) return null;
    this.s.deleteAlias().run(name, alias);
    const movedAt = Date.now();
    const id = Number(this.s.addMove.run(name, alias, from, null, movedAt).lastInsertRowid);
    return { id, name, alias, fromVersion: from, toVersion: null, movedAt };
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

type VersionRow = Omit<ModelVersionRecord, 'noLineage' | 'forced' | 'aliases' | 'tags'> & { noLineage: number; forced: string | null; aliases: string; tags: string | null };

function toRecord(r: VersionRow): ModelVersionRecord {
  return {
    ...r,
    noLineage: r.noLineage === 1,
    forced: r.forced === null ? null : JSON.parse(r.forced),
    aliases: (JSON.parse(r.aliases) as string[]).sort(),
    // json_group_object over no rows is '{}'.
    tags: JSON.parse(r.tags ?? '{}') as Record<string, string>,
  };
}
