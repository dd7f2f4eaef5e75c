import { join } from 'node:path';
import { ensureRealDir } from '../io/safePaths.ts';
import { dataDirOf, ensureDataDir } from '../workspace.ts';

/**
 * Where Compare's save dialogs start: `.runboard/exports/`, made on demand. `.runboard/` is
 * git-ignored and left out of the code snapshot, so an exported chart neither makes the tree
 * dirty nor lands in the next run's patch (the workspace root did both). No folder on the way
 * may be a symbolic link: a cloned repository could point `exports` anywhere.
 */
export function exportFolder(workspace: string): string {
  const data = dataDirOf(workspace);
  ensureDataDir(data);
  return ensureRealDir(data, join(data, 'exports'));
}
