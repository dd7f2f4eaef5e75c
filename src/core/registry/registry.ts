import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, linkSync, lstatSync, mkdtempSync, openSync, readSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.ts';
import { evaluateGates, type GateResult } from '../gates.ts';
import type { DeploymentRecord } from '../store/deployments.ts';
import type { AliasMove, ModelSummary, ModelVersionRecord } from '../store/models.ts';
import type { Store } from '../store/store.ts';
import type { CodeState, MetricSummary, Run } from '../store/types.ts';
import { countHardLinks, ensureRealDir, isInside, realDirExists } from '../io/safePaths.ts';
import { copyTree, hashTree, treeFiles, type ModelTree } from './modelTree.ts';
import { dataDirOf, workspaceOf } from '../workspace.ts';
import { findProfile } from '../launch/profiles.ts';
import { runReference, VERSION_REFERENCE } from '../monitor/reference.ts';

/** What was known about the model's run when it was registered; kept even if the run is deleted. */
export interface ModelSnapshot {
  run?: { id: number; name: string; experiment: string; status: string; profile: string | null };
  /** The artifact path inside the run's folder, and whether the run had recorded it. */
  artifact?: { path: string; recorded: boolean };
  metrics?: Record<string, MetricSummary>;
  params?: Record<string, string>;
  inputs?: { path: string; fingerprint: string; size: number }[];
  code?: CodeState | null;
  environment?: Record<string, unknown> | null;
  gates?: { condition: string; ok: boolean; actual: number | null }[];
  /** Why there is no lineage, for a model registered from a plain file. */
  note?: string;
}

/** A registered version as callers see it: `storedPath` absolute, the snapshot read. */
export type ModelVersion = Omit<ModelVersionRecord, 'snapshot'> & { snapshot: ModelSnapshot };

export type { AliasMove, ModelSummary } from '../store/models.ts';

export interface RegisterSpec {
  name: string;
  /** A run id or name, with `artifact` relative to its output folder. */
  run?: string | number;
  artifact?: string;
  /** Any model file instead of a run's artifact (the version then has no lineage). */
  file?: string;
  /** Where a relative `file` is resolved from (default: the workspace). */
  cwd?: string;
  aliases?: string[];
  force?: boolean;
  /** Add a version even when the newest one already holds this very model (same sha256). */
  allowIdentical?: boolean;
}

export interface GateCheck {
  profile: string | null;
  results: GateResult[];
  failing: GateResult[];
}

/** Refused because the newest version already holds this very model: another would be a copy. */
export class IdenticalVersionError extends UserError {
  readonly latest: ModelVersion;

  constructor(latest: ModelVersion, hint: string) {
    super(`${latest.name}@${latest.version} already holds this very model (sha256 ${latest.sha256.slice(0, 12)}…): registering it would add an identical version. ${hint}`);
    this.latest = latest;
  }
}

/** Refused because promotion gates failed; `results` says which. */
export class GateError extends UserError {
  override name = 'GateError';
  readonly results: GateResult[];
  constructor(message: string, results: GateResult[]) {
    super(message);
    this.results = results;
  }
}

/** Refused because a deployment still serves (or may serve) the version: `deployments` says which. */
export class InUseError extends UserError {
  override name = 'InUseError';
  readonly deployments: DeploymentRecord[];
  constructor(message: string, deployments: DeploymentRecord[]) {
    super(message);
    this.deployments = deployments;
  }
}

/** A deployment in any other status may still be serving, or be started from its prepared files. */
const ENDED_DEPLOYMENTS = new Set(['failed', 'stopped', 'stopped unexpectedly']);

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Model names and aliases: letters, digits, `-_.`, no `..`, no slashes, at most 128 characters. */
export function validateName(name: string, what = 'model name'): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw new UserError(`Invalid ${what} "${name}": use letters, digits, "-", "_" and "." (no "..", no slashes), starting with a letter or digit`);
  }
  return name;
}

export function validateAlias(alias: string): string {
  validateName(alias, 'alias');
  // NAME@3 is a version and NAME@latest the newest one, so neither can be an alias.
  if (/^\d+$/.test(alias) || alias === 'latest') throw new UserError(`Invalid alias "${alias}": it would read as a version`);
  return alias;
}

/** sha256 of a file, read in chunks so a large model never sits in memory whole. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** sha256 and size of a model file, or of a model folder with its files (see modelTree.ts). */
export function hashModel(path: string): { sha256: string; size: number; tree?: ModelTree } {
  if (statSync(path).isDirectory()) {
    const tree = hashTree(path, sha256File);
    return { sha256: tree.sha256, size: tree.size, tree };
  }
  return { sha256: sha256File(path), size: statSync(path).size };
}

/** The promotion gates of a run's profile, evaluated on its metrics now. */
export function checkGates(store: Store, run: Run, workspace = workspaceOf(store.file)): GateCheck {
  // A profile deleted since the run has no gates left to apply.
  const gates = run.profile ? (findProfile(workspace, run.profile)?.gates ?? []) : [];
  const results = evaluateGates(gates, store.summaries(run.id));
  return { profile: run.profile, results, failing: results.filter((r) => !r.ok) };
}

/**
 * Throws a GateError naming each failing gate, unless `force`; then returns the overridden gates
 * (for the `forced` column), or null when nothing failed.
 */
export function enforceGates(check: GateCheck, force: boolean, action: string): string[] | null {
  if (check.failing.length === 0) return null;
  if (force) return check.failing.map((r) => r.gate.text);
  const reasons = check.failing.map((r) => r.reason).join('; ');
  throw new GateError(
    `Refusing to ${action}: promotion gate${check.failing.length > 1 ? 's' : ''} of profile "${check.profile}" failed: ${reasons}. Use --force to override (it is recorded).`,
    check.results,
  );
}

/** The alias a team gives its best version: what `deploy NAME` serves and what versions are compared with. */
export const CHAMPION = 'champion';

/** The model registry: numbered versions per name, stored copies, aliases and their history. */
export class Registry {
  readonly store: Store;
  readonly workspace: string;
  readonly modelsDir: string;
  private readonly copy: (from: string, to: string) => void;

  /** `copy` makes the registry's copy of a model file (a hard link when it can); tests slow it down to watch the lock. */
  constructor(store: Store, workspace = workspaceOf(store.file), copy = linkOrCopy) {
    this.store = store;
    this.workspace = workspace;
    this.modelsDir = join(dataDirOf(workspace), 'models');
    this.copy = copy;
  }

  register(spec: RegisterSpec): ModelVersion {
    const name = validateName(spec.name);
    const aliases = (spec.aliases ?? []).map(validateAlias);
    const source = spec.file !== undefined ? this.fileSource(spec.file, spec.cwd) : this.runSource(spec);
    const forced = source.gates ? enforceGates(source.gates, spec.force ?? false, `register ${name}`) : null;
    const { sha256, size, tree } = hashModel(source.path);
    if (source.recordedSha && source.recordedSha !== sha256) {
      throw new UserError(`${source.path} changed since the run recorded it (sha256 ${source.recordedSha.slice(0, 12)}… then, ${sha256.slice(0, 12)}… now); not registering it`);
    }
    const identical = spec.allowIdentical ? undefined : this.identicalLatest(name, sha256);
    if (identical) throw new IdenticalVersionError(identical, 'Use --allow-identical to add it anyway.');
    const file = basename(source.path);
    // Removing a leftover version folder through a linked models/NAME deleted outside the workspace.
    const modelDir = ensureRealDir(dataDirOf(this.workspace), join(this.modelsDir, name));
    // Copying and hashing take as long as the model is large (minutes for many GB), so they happen
    // before the write transaction, under a name no version uses; the transaction only renames.
    const staging = mkdtempSync(join(modelDir, '.incoming-'));
    try {
      if (tree) copyTree(source.path, join(staging, file), tree.files, this.copy);
      else this.copy(source.path, join(staging, file));
      // The run's monitoring reference travels with the version, so a deployment has it after the run is gone.
      const reference = runReference(source.run?.runDir ?? null);
      if (reference && file !== VERSION_REFERENCE) copyFileSync(reference, join(staging, VERSION_REFERENCE));
      const storedSha = hashModel(join(staging, file)).sha256;
      if (storedSha !== sha256) throw new UserError(`The registry's copy of ${source.path} does not match it (sha256 ${storedSha} ≠ ${sha256})`);
      let placed: string | undefined;
      const place = (version: number): string => {
        const dir = join(modelDir, String(version));
        // Left over by a registration that failed after placing its file: no row points at it.
        rmSync(dir, { recursive: true, force: true });
        renameSync(staging, dir);
        placed = dir;
        return relative(this.workspace, join(dir, file));
      };
      const record = { name, runId: source.run?.id ?? null, sourcePath: source.path, sha256, size, snapshot: JSON.stringify(source.snapshot), forced, aliases };
      let id: number;
      try {
        id = this.store.models.add(record, place);
      } catch (err) {
        // The transaction rolled back, so no row points at the placed copy.
        if (placed) rmSync(placed, { recursive: true, force: true });
        throw err;
      }
      return this.byId(id)!;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Every version, by name then newest first; or one model's versions. */
  /** The newest version of `name` when it holds the model with this sha256 (a file or a folder's manifest). */
  identicalLatest(name: string, sha256: string): ModelVersion | undefined {
    const [latest] = this.list(name);
    return latest?.sha256 === sha256 ? latest : undefined;
  }

  list(name?: string): ModelVersion[] {
    return this.store.models.list(name).map((r) => this.toVersion(r));
  }

  models(): ModelSummary[] {
    return this.store.models.summaries();
  }

  get(name: string, version: number): ModelVersion | undefined {
    const record = this.store.models.get(name, version);
    return record && this.toVersion(record);
  }

  byId(id: number): ModelVersion | undefined {
    const record = this.store.models.byId(id);
    return record && this.toVersion(record);
  }

  /** `NAME` (the newest version), `NAME@3`, `NAME@latest` or `NAME@alias`. */
  resolve(ref: string): ModelVersion {
    const at = ref.lastIndexOf('@');
    const name = validateName(at === -1 ? ref : ref.slice(0, at));
    const which = at === -1 ? 'latest' : ref.slice(at + 1);
    const latest = this.list(name)[0];
    if (!latest) throw new UserError(`No model "${name}" in the registry. Register one with: runboard models register RUN ARTIFACT --name ${name}`);
    if (which === 'latest') return latest;
    const version = /^\d+$/.test(which) ? Number(which) : this.store.models.aliasVersion(name, which);
    const found = version === undefined ? undefined : this.get(name, version);
    if (!found) {
      const known = this.models().find((m) => m.name === name)!;
      const aliases = Object.keys(known.aliases);
      throw new UserError(`${name} has no ${/^\d+$/.test(which) ? 'version' : 'alias'} "${which}" (versions 1…${known.latest}${aliases.length ? `; aliases: ${aliases.join(', ')}` : ''})`);
    }
    return found;
  }

  /**
   * What `deploy NAME` serves: the version the `champion` alias names when there is one (the
   * team's pick), else the latest; `NAME@VERSION` and `NAME@ALIAS` as `resolve`.
   */
  resolveForDeploy(ref: string): ModelVersion {
    if (ref.includes('@')) return this.resolve(ref);
    const champion = this.store.models.aliasVersion(validateName(ref), CHAMPION);
    return champion === undefined ? this.resolve(ref) : this.resolve(`${ref}@${CHAMPION}`);
  }

  /** Points `alias` at `version`, recording the move; null when it already pointed there. */
  setAlias(name: string, alias: string, version: number): AliasMove | null {
    validateName(name);
    validateAlias(alias);
    if (!this.get(name, version)) throw new UserError(`${name} has no version ${version}`);
    return this.store.models.setAlias(name, alias, version);
  }

  /** Alias history, newest first. */
  aliasMoves(name?: string): AliasMove[] {
    return this.store.models.aliasMoves(name);
  }

  /**
   * Deletes a version: the row stays, hidden (its number is never given again; deployments and
   * lineage that name it still resolve), its aliases are removed with the removal recorded, and
   * the registry's copy is removed unless a deployment ever used it (its monitor reads the
   * reference beside it). Refused while a deployment of it is not ended. Returns the alias removals.
   */
  deleteVersion(name: string, version: number): AliasMove[] {
    return this.deleteVersions(name, [version], () => this.store.models.deleteVersions(name, [version]));
  }

  /** Deletes a model: every version as deleteVersion does, its description and tags. Refused while any version is deployed. */
  deleteModel(name: string): AliasMove[] {
    const versions = this.list(name).map((v) => v.version);
    return this.deleteVersions(name, versions, () => this.store.models.deleteModel(name));
  }

  /**
   * Renames a model with its history (deleted versions, alias moves, tags), moving its folder of
   * stored copies. Refused while a version is deployed (its server was given paths in that folder),
   * and when `to` is taken, by a model or by the kept versions of a deleted one.
   */
  renameModel(from: string, to: string): void {
    validateName(to);
    const live = this.list(from).flatMap((v) => this.liveDeployments(v));
    if (live.length) throw inUse(`rename ${from}`, live);
    const kept = this.store.models.deletedVersions(to);
    if (kept.length) {
      throw new UserError(`The name ${to} is still held by the deleted versions ${kept.join(', ')} of a model of that name (kept for the deployments and lineage that name them); choose another name`);
    }
    const fromDir = join(this.modelsDir, from);
    const toDir = join(this.modelsDir, to);
    const data = dataDirOf(this.workspace);
    const prefix = (dir: string): string => `${relative(this.workspace, dir).split(sep).join('/')}/`;
    this.store.models.renameModel(from, to, { fromPrefix: prefix(fromDir), toPrefix: prefix(toDir) }, () => {
      if (!realDirExists(data, fromDir)) return;
      if (existsSync(toDir)) throw new UserError(`${toDir} exists though no version of ${to} is registered; move it away to rename ${from} to ${to}`);
      renameSync(fromDir, toDir);
    });
  }

  private deleteVersions(name: string, versions: number[], remove: () => AliasMove[]): AliasMove[] {
    const targets = versions.map((v) => this.get(name, v)!);
    const deleted = this.store.transaction(() => {
      // Checked in the write transaction, so no deployment of them can start in between.
      const live = targets.flatMap((v) => this.liveDeployments(v));
      if (live.length) throw inUse(`delete ${name}${versions.length === 1 ? `@${versions[0]}` : ''}`, live);
      return remove();
    });
    for (const v of targets) {
      if (this.store.deployments.ofVersion(v.id).length === 0) this.removeStoredCopy(dirname(v.storedPath));
    }
    return deleted;
  }

  /** After the rows are committed, so a failure here loses no record; never through a link (see safePaths.ts). */
  private removeStoredCopy(dir: string): void {
    const data = dataDirOf(this.workspace);
    if (!isInside(this.modelsDir, dir) || !isInside(data, dir)) return;
    try {
      if (!realDirExists(data, dir)) return;
    } catch {
      return; // a linked folder: its contents are not the registry's to remove
    }
    rmSync(dir, { recursive: true, force: true });
  }

  private liveDeployments(v: ModelVersion): DeploymentRecord[] {
    return this.store.deployments.ofVersion(v.id).filter((d) => !ENDED_DEPLOYMENTS.has(d.status));
  }

  /** Absolute path of the stored copy, after checking it still has the registered sha256. */
  verifiedPath(mv: ModelVersion): string {
    if (!existsSync(mv.storedPath)) throw new UserError(`The stored copy of ${mv.name}@${mv.version} is missing: ${mv.storedPath}`);
    const sha = hashModel(mv.storedPath).sha256;
    if (sha !== mv.sha256) {
      // A hard link shares its bytes with the run's artifact, so rewriting that file in place changes this one.
      throw new UserError(`The stored copy of ${mv.name}@${mv.version} changed since registration (sha256 ${sha.slice(0, 12)}…, registered ${mv.sha256.slice(0, 12)}…): register the model again`);
    }
    return mv.storedPath;
  }

  private runSource(spec: RegisterSpec): Source {
    if (spec.run === undefined || spec.artifact === undefined) throw new UserError('Give a run and an artifact path, or a model file');
    const run = this.store.resolveRun(spec.run);
    if (!run.runDir) throw new UserError(`Run ${run.id} has no output folder, so it has no artifacts to register`);
    const artifact = spec.artifact;
    if (isAbsolute(artifact)) throw new UserError(`The artifact path must be relative to the run's folder (${run.runDir}), not "${artifact}"`);
    const path = resolve(run.runDir, artifact);
    if (!isInside(resolve(run.runDir), path)) throw new UserError(`The artifact path "${artifact}" leaves the run's folder`);
    if (!existsSync(path) || !(statSync(path).isFile() || statSync(path).isDirectory())) throw new UserError(`Run ${run.id} has no file "${artifact}" in ${run.runDir}`);
    const data = dataDirOf(this.workspace);
    if (isInside(data, resolve(run.runDir))) realDirExists(data, resolve(run.runDir));
    if (!isInside(realpathSync(run.runDir), realpathSync(path))) throw new UserError(`The artifact "${artifact}" is a link to a file outside the run's folder`);
    const files = statSync(path).isDirectory() ? treeFiles(path).map((f) => join(path, f)) : [path];
    for (const file of files) this.refuseForeignHardLinks(file, run);
    const rel = relative(resolve(run.runDir), path).split(sep).join('/');
    const recorded = this.store.artifacts(run.id).find((a) => a.path === rel);
    const check = checkGates(this.store, run, this.workspace);
    const snapshot: ModelSnapshot = {
      run: { id: run.id, name: run.name, experiment: run.experiment, status: run.status, profile: run.profile },
      artifact: { path: rel, recorded: recorded !== undefined },
      metrics: this.store.summaries(run.id),
      params: this.store.params(run.id),
      inputs: this.store.inputs(run.id).map(({ path, fingerprint, size }) => ({ path, fingerprint, size })),
      code: this.store.codeState(run.id) ?? null,
      environment: this.store.environment(run.id) ?? null,
      gates: check.results.map((r) => ({ condition: r.gate.text, ok: r.ok, actual: r.actual ?? null })),
    };
    return { path, run, recordedSha: recorded?.sha256, snapshot, gates: check };
  }

  /**
   * A run's artifact is its own only when every hard link to it is in the run's folder or is one
   * of the registry's or deployments' own copies (linkOrCopy makes those); a name elsewhere means
   * the bytes belong to some other file too, which can change them, or which the run never wrote.
   */
  private refuseForeignHardLinks(path: string, run: Run): void {
    const stat = lstatSync(path);
    if (stat.nlink <= 1) return;
    const data = dataDirOf(this.workspace);
    const known = countHardLinks(stat, [run.runDir!, this.modelsDir, join(data, 'deploy')]);
    if (known < stat.nlink) {
      throw new UserError(
        `${path} has ${stat.nlink - known} hard link${stat.nlink - known > 1 ? 's' : ''} outside run ${run.id}'s folder, so it is not registered as that run's artifact: copy it (cp, not ln) or register it with --file, without lineage`,
      );
    }
  }

  private fileSource(file: string, cwd = this.workspace): Source {
    const path = resolve(cwd, file);
    if (file.split(/[\\/]/).includes('..') && !isInside(this.workspace, path)) {
      throw new UserError(`The path "${file}" climbs out of the workspace with ".."; give it as an absolute path if you mean it`);
    }
    if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`No model file at ${path}`);
    return {
      path,
      snapshot: { note: 'Registered from a file, not from a run: no metrics, inputs, code or environment were recorded with it, and no promotion gates apply.' },
    };
  }

  private toVersion(r: ModelVersionRecord): ModelVersion {
    return { ...r, storedPath: resolve(this.workspace, r.storedPath), snapshot: JSON.parse(r.snapshot) as ModelSnapshot };
  }
}

function inUse(action: string, deployments: DeploymentRecord[]): InUseError {
  const which = deployments.map((d) => `#${d.id} (${d.model}@${d.version}, ${d.target}, ${d.status})`).join(', ');
  return new InUseError(`Refusing to ${action}: deployment${deployments.length > 1 ? 's' : ''} ${which} still serve${deployments.length > 1 ? '' : 's'} it; stop ${deployments.length > 1 ? 'them' : 'it'} first (runboard undeploy ID, or Stop in the Deployments view)`, deployments);
}

interface Source {
  path: string;
  run?: Run;
  recordedSha?: string;
  snapshot: ModelSnapshot;
  gates?: GateCheck;
}

/** A hard link when the registry is on the same filesystem (instant, no extra space), else a copy. */
export function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
