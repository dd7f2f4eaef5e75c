import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where `runboard.log_reference` writes a run's reference, inside the run's folder. */
export const RUN_REFERENCE = join('artifacts', 'reference.json');
/** The copy a registered version keeps beside its model file, so it outlives the run. */
export const VERSION_REFERENCE = 'runboard-reference.json';

/** The run's reference file, when it logged one. */
export function runReference(runDir: string | null): string | undefined {
  const file = runDir ? join(runDir, RUN_REFERENCE) : undefined;
  return file && existsSync(file) ? file : undefined;
}

/** The reference a registered version carries, found beside its stored model file. */
export function versionReference(storedPath: string): string | undefined {
  const file = join(dirname(storedPath), VERSION_REFERENCE);
  return existsSync(file) ? file : undefined;
}
