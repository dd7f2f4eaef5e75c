import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isModelFile } from '../modelFiles.ts';
import type { ArtifactKind } from '../store/types.ts';
import { isVanished } from './fileErrors.ts';

/** Files the Python client writes at the top of the run folder (see src/python/runboard). */
export const CLIENT_FILES = {
  metrics: 'metrics.jsonl',
  params: 'params.json',
  tags: 'tags.json',
  artifactKinds: 'artifacts.jsonl',
  run: 'run.json',
} as const;
/**
 * Files read whole (run.json, params.json, tags.json, artifacts.jsonl, trainer_state.json) are
 * refused beyond this size rather than loaded: larger than any of them seen in practice.
 */
export const MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024;
export const LOG_FILES = { stdout: 'stdout.log', stderr: 'stderr.log' } as const;

const KIND_BY_EXTENSION: Record<string, ArtifactKind> = Object.fromEntries([
  ...['.png', '.jpg', '.jpeg', '.svg', '.pdf'].map((e) => [e, 'plot']),
  ...['.csv', '.parquet', '.npy', '.npz', '.json', '.jsonl', '.tsv'].map((e) => [e, 'data']),
]);

/** The kind an artifact is recorded with when the client did not name one. */
export function artifactKind(path: string): ArtifactKind {
  return isModelFile(path) ? 'model' : (KIND_BY_EXTENSION[extname(path).toLowerCase()] ?? 'other');
}

export type FileRole = 'ignored' | 'clientMetrics' | 'params' | 'tags' | 'artifactKinds' | 'trainerState' | 'csv' | 'artifact';

/** What a file of the run folder is, from its posix path relative to the folder. */
export function fileRole(rel: string): FileRole {
  const parts = rel.split('/');
  // Dotfiles are temporary (the client writes `.name.tmp` then renames) or tool state.
  if (parts.some(isSkippedName)) return 'ignored';
  const name = parts[parts.length - 1]!;
  if (parts.length === 1) {
    if (name === LOG_FILES.stdout || name === LOG_FILES.stderr || name === CLIENT_FILES.run) return 'ignored';
    if (name === CLIENT_FILES.metrics) return 'clientMetrics';
    if (name === CLIENT_FILES.params) return 'params';
    if (name === CLIENT_FILES.tags) return 'tags';
    if (name === CLIENT_FILES.artifactKinds) return 'artifactKinds';
  }
  if (name === 'trainer_state.json') return 'trainerState';
  if (extname(name).toLowerCase() === '.csv') return 'csv';
  return 'artifact';
}

const isSkippedName = (name: string): boolean => name.startsWith('.') || name === '__pycache__';

/**
 * Regular files under a folder, skipping dot folders and symlinks. A folder that cannot be listed
 * (other than one that vanished) is reported to `onError` and the rest is still listed.
 */
export async function listRunFiles(dir: string, onError: (err: unknown, dir: string) => void): Promise<string[]> {
  const files: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (!isVanished(err)) onError(err, dir);
    return files;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !isSkippedName(entry.name)) files.push(...(await listRunFiles(path, onError)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
