import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/**
 * The folder holding Runboard's package.json. Works from the sources (unit tests run the .ts
 * files directly) and from the esbuild bundles in dist/, so data files that ship beside the code
 * (SQL migrations, the Python client) are found the same way in both.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  // In the CJS bundle __dirname exists; when Node runs the ESM sources it does not.
  let dir = typeof __dirname === 'string' ? __dirname : import.meta.dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'runboard') {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Runboard: cannot find its own package.json');
    dir = parent;
  }
}

export const migrationsDir = (): string => join(packageRoot(), 'src', 'core', 'store', 'migrations');
export const pythonDir = (): string => join(packageRoot(), 'src', 'python');

/** Default database location for a workspace folder. */
export const defaultDbPath = (workspace: string): string => join(workspace, '.runboard', 'runboard.db');
