import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { treeFiles } from './modelTree.ts';

const PICKLE_EXTENSIONS = new Set(['.pkl', '.pickle', '.joblib']);
const TORCH_EXTENSIONS = new Set(['.pt', '.pth']);
/** A zip's central directory sits at its end; this much of the end holds the entry names of any model archive. */
const ZIP_TAIL_BYTES = 1 << 20;

function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
}

const isDirectory = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * Whether loading the file runs pickle, which executes whatever code the file names: .pkl,
 * .pickle and .joblib always; a .pt/.pth when torch.save wrote it (a raw pickle, or a zip without
 * the `code/` folder of a TorchScript archive, which torch.jit.load reads without running Python).
 * An unreadable torch file counts as a pickle.
 */
export function loadsAsPickle(path: string): boolean {
  // A model folder (MLflow's) loads as a pickle when any file in it does.
  if (isDirectory(path)) return treeFiles(path).some((file) => loadsAsPickle(join(path, file)));
  const extension = extname(path).toLowerCase();
  if (PICKLE_EXTENSIONS.has(extension)) return true;
  if (!TORCH_EXTENSIONS.has(extension)) return false;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (readAt(fd, 4, 0).toString('latin1') !== 'PK\x03\x04') return true;
    const size = fstatSync(fd).size;
    const tail = readAt(fd, Math.min(size, ZIP_TAIL_BYTES), Math.max(0, size - ZIP_TAIL_BYTES));
    // Central directory entries: signature PK\1\2, name length at +28, the name at +46.
    for (let at = tail.indexOf('PK\x01\x02', 0, 'latin1'); at !== -1 && at + 46 <= tail.length; at = tail.indexOf('PK\x01\x02', at + 4, 'latin1')) {
      const name = tail.toString('utf8', at + 46, at + 46 + tail.readUInt16LE(at + 28));
      if (/(^|\/)code\//.test(name)) return false;
    }
    return true;
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The warning for a model file that loads as a pickle when no run here wrote it (`vouched`: a run
 * recorded the artifact and its sha256 still matches), else undefined. Such a file can come from
 * anywhere, and loading it runs any code it holds.
 */
export function pickleWarning(path: string, vouched: boolean): string | undefined {
  if (vouched || !loadsAsPickle(path)) return undefined;
  return `${basename(path)} is a pickle that no Runboard run wrote (no lineage): loading it, as a deployment does, runs any code it holds. Use it only if you trust where it came from.`;
}

/** Whether a registered version is vouched for: a run of ours recorded it and the registry checked its sha256. */
export const vouchedVersion = (v: { runId: number | null; snapshot: { artifact?: { recorded: boolean } } }): boolean => v.runId !== null && v.snapshot.artifact?.recorded === true;
