import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
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

/** Default output folder of a run: `.runboard/runs/<id>/` in its workspace. */
export const defaultRunDir = (dbPath: string, runId: number): string =>
  join(workspaceOf(dbPath), '.runboard', 'runs', String(runId));
