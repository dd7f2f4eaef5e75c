import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.ts';

/**
 * A model saved as a folder (MLflow's MLmodel, model.pkl, conda.yaml…) is registered, hashed and
 * verified whole. Its sha256 is that of a manifest, one `<sha256>  <path>` line per file sorted by
 * path (what `sha256sum` prints), so renaming, adding or changing any file changes it. Dotfiles
 * and `__pycache__` are left out, as capture leaves them out: they are temporary or tool state.
 */
export interface ModelTree {
  /** Posix paths relative to the folder, sorted. */
  files: string[];
  sha256: string;
  size: number;
}

const isSkipped = (name: string): boolean => name.startsWith('.') || name === '__pycache__';

/** The files of a model folder; a symbolic link anywhere inside is refused (it could point outside). */
export function treeFiles(dir: string): string[] {
  const files: string[] = [];
  const visit = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (isSkipped(name)) continue;
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(join(dir, path));
      if (stat.isSymbolicLink()) throw new UserError(`${join(dir, path)} is a symbolic link: a model folder is registered only with the files it holds`);
      if (stat.isDirectory()) visit(path);
      else if (stat.isFile()) files.push(path);
    }
  };
  visit('');
  return files.sort();
}

/** The manifest sha256 and total size of a model folder, hashing each file with `hashFile`. */
export function hashTree(dir: string, hashFile: (path: string) => string): ModelTree {
  const files = treeFiles(dir);
  const manifest = createHash('sha256');
  let size = 0;
  for (const file of files) {
    manifest.update(`${hashFile(join(dir, file))}  ${file}\n`);
    size += lstatSync(join(dir, file)).size;
  }
  return { files, sha256: manifest.digest('hex'), size };
}

/** Copies the listed files of `from` into `to` (made here), file by file with `copy`. */
export function copyTree(from: string, to: string, files: readonly string[], copy: (from: string, to: string) => void): void {
  mkdirSync(to);
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copy(join(from, file), join(to, file));
  }
}
