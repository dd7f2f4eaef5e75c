import { closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, writeFileSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { UserError } from '../errors.ts';

const lstatOrUndefined = (path: string): Stats | undefined => {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

/** Whether `path` is `base` or lies below it, by name (links are not resolved). */
export function isInside(base: string, path: string): boolean {
  const rel = relative(base, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function linkRefusal(path: string): UserError {
  let target = '';
  try {
    target = ` (to ${readlinkSync(path)})`;
  } catch {
    // Gone meanwhile: the name alone says enough.
  }
  return new UserError(`${path} is a symbolic link${target}: Runboard does not write, copy or remove through links in its own folders; remove the link and try again`);
}

/**
 * Walks from `root` down to `dir`, refusing a symbolic link or a file at any step, and with
 * `create` making the missing folders. A cloned repository can ship `.runboard/models/x` as a
 * link to anywhere; writing, copying or removing through it would act outside the workspace.
 * `root` itself may be a link: that is the user's own choice of where records live.
 */
function walkInside(root: string, dir: string, create: boolean): boolean {
  if (!isInside(root, dir)) throw new Error(`${dir} is not inside ${root}`);
  if (create) mkdirSync(root, { recursive: true });
  let path = root;
  for (const part of relative(root, dir).split(sep).filter(Boolean)) {
    path = join(path, part);
    let stat = lstatOrUndefined(path);
    if (!stat && !create) return false;
    if (!stat) {
      try {
        mkdirSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      stat = lstatSync(path);
    }
    if (stat.isSymbolicLink()) throw linkRefusal(path);
    if (!stat.isDirectory()) throw new UserError(`${path} should be a folder, but it is a file: move it away and try again`);
  }
  return true;
}

/** Makes `dir` under `root` (Runboard's `.runboard`) with real folders only; see walkInside. */
export function ensureRealDir(root: string, dir: string): string {
  walkInside(root, dir, true);
  return dir;
}

/** Throws when a folder between `root` and `dir` is a symbolic link; false when one is missing. */
export function realDirExists(root: string, dir: string): boolean {
  return walkInside(root, dir, false);
}

/** Opens `path` for writing, refusing it when the name itself is a symbolic link (O_NOFOLLOW). */
export function openNoFollow(path: string): number {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefusal(path);
    throw err;
  }
}

export function writeFileNoFollow(path: string, text: string): void {
  const fd = openNoFollow(path);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** How many names of the file `stat` describes lie in `dirs`, found without following links. */
export function countHardLinks(stat: Stats, dirs: string[]): number {
  let found = 0;
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const entry = lstatOrUndefined(join(dir, name));
      if (entry?.isDirectory()) visit(join(dir, name));
      else if (entry && entry.ino === stat.ino && entry.dev === stat.dev) found++;
    }
  };
  for (const dir of dirs) visit(dir);
  return found;
}
