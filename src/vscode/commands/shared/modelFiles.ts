// No `vscode` import: which run (or registered version) a model file belongs to is plain data.
import { basename, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { sha256File, type ModelVersion, type Registry } from '../../../core/registry/registry.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Run } from '../../../core/store/types.ts';

export type ModelFile =
  /** An artifact of a run: registering it keeps the run's lineage. */
  | { kind: 'run'; path: string; run: Run; artifact: string }
  /** The registry's own copy of a version. */
  | { kind: 'stored'; path: string; version: ModelVersion }
  /** Anything else: registered without lineage, for the reason given. */
  | { kind: 'file'; path: string; reason: string };

const inside = (base: string, path: string): boolean => {
  const rel = relative(base, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/** Where a model file comes from: a run's folder (`.runboard/runs/<id>/…`), the registry, or neither. */
export function locateModelFile(store: Store, registry: Registry, file: string): ModelFile {
  const path = resolve(file);
  if (inside(registry.modelsDir, path)) {
    const [name, version] = relative(registry.modelsDir, path).split(sep);
    const found = name && version && /^\d+$/.test(version) ? registry.get(name, Number(version)) : undefined;
    if (found && resolve(found.storedPath) === path) return { kind: 'stored', path, version: found };
  }
  const m = /(?:^|[\\/])\.runboard[\\/]runs[\\/](\d+)[\\/]/.exec(path);
  if (m) {
    const run = store.run(Number(m[1]));
    if (run?.runDir && inside(resolve(run.runDir), path)) {
      return { kind: 'run', path, run, artifact: relative(resolve(run.runDir), path).split(sep).join('/') };
    }
    return { kind: 'file', path, reason: `run ${m[1]}, whose folder holds it, is no longer in the database` };
  }
  return { kind: 'file', path, reason: "it is not inside a run's folder (.runboard/runs/<id>/), so no run recorded how it was made" };
}

/**
 * The version already registered from this very file (same source and bytes), so deploying a
 * file twice does not register it twice.
 */
export function registeredVersionOf(registry: Registry, located: ModelFile): ModelVersion | undefined {
  if (located.kind === 'stored') return located.version;
  let sha: string | undefined;
  const sameBytes = (v: ModelVersion) => (sha ??= sha256File(located.path)) === v.sha256;
  return registry.list().find((v) =>
    located.kind === 'run'
      ? v.runId === located.run.id && v.snapshot.artifact?.path === located.artifact && sameBytes(v)
      : v.noLineage && resolve(v.sourcePath) === located.path && sameBytes(v),
  );
}

/** A valid model name from a run (its profile or experiment) or a file name. */
export function suggestedModelName(located: ModelFile): string {
  const raw = located.kind === 'run' ? (located.run.profile ?? located.run.experiment) : located.kind === 'stored' ? located.version.name : basename(located.path, extname(located.path));
  return raw.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128) || 'model';
}
