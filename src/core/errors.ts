/** An error caused by the user's input or environment: shown as one line, never a stack trace. */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * A sentence for a database error the user can act on (a full disk, a read-only or locked file),
 * or undefined for anything else. What was recorded before the error stays in the database: a
 * write that fails rolls back alone.
 */
export function storageProblem(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL') {
    return 'The disk holding the Runboard database is full (SQLITE_FULL). What was recorded before is kept; free some space and try again (a run cut short is marked crashed the next time Runboard opens the database).';
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
    return `The Runboard database cannot be written here (${code}): check the permissions of its folder, or choose another file (--db, runboard.databasePath).`;
  }
  if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) {
    return `The Runboard database stayed locked by another process (${code}); try again when it is done.`;
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') {
    return `The Runboard database could not be read or written (${code}): check the disk it is on.`;
  }
  return undefined;
}
