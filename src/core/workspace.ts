import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ensureRealDir, isInside } from './io/safePaths.ts';
import { defaultDbPath } from './paths.ts';

/**
 * Where the database is: an explicit path, else RUNBOARD_DB, else the nearest
 * `.runboard/runboard.db` above `cwd` (like git finds `.git`), else a new one in `cwd`.
 */
export function resolveDbPath(explicit: string | undefined, cwd: string, env = process.env): string {
  if (explicit) return resolve(cwd, explicit);
  if (env.RUNBOARD_DB) return resolve(cwd, env.RUNBOARD_DB);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(defaultDbPath(dir))) return defaultDbPath(dir);
    if (dirname(dir) === dir) return defaultDbPath(resolve(cwd));
  }
}

/** The workspace a database belongs to: the folder holding `.runboard/`, else the db's folder. */
export function workspaceOf(dbPath: string): string {
  const dir = dirname(dbPath);
  return basename(dir) === '.runboard' ? dirname(dir) : dir;
}

/** A workspace's `.runboard/`: records, profiles and deploy settings. */
export const dataDirOf = (workspace: string): string => join(workspace, '.runboard');

/** Default output folder of a run: `.runboard/runs/<id>/` in its workspace. */
export const defaultRunDir = (dbPath: string, runId: number): string => join(dataDirOf(workspaceOf(dbPath)), 'runs', String(runId));

/**
 * Creates a run's output folder. Under the workspace's `.runboard/` no folder on the way may be a
 * symbolic link (a cloned repository could ship `runs/7` pointing anywhere); a folder a profile
 * names elsewhere is the user's own choice and is made as given.
 */
export function makeRunDir(dbPath: string, runDir: string): void {
  const data = dataDirOf(workspaceOf(dbPath));
  if (isInside(data, runDir)) ensureRealDir(data, runDir);
  else mkdirSync(runDir, { recursive: true });
}

/**
 * Creates a workspace's `.runboard/` with a .gitignore that keeps its records (database, runs,
 * models, deployments) out of git, while the profiles and deploy settings stay committable.
 */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (basename(dir) !== '.runboard') return;
  try {
    writeFileSync(
      join(dir, '.gitignore'),
      "# Runboard's records; profiles.json and deploy.json are meant to be committed.\n*\n!.gitignore\n!profiles.json\n!deploy.json\n",
      { flag: 'wx' },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
