/**
 * Whether a file error only says the file (or a folder on its path) is gone: a run may delete
 * its temporary files at any time, so that alone loses nothing. Every other error (EACCES,
 * EMFILE, EISDIR, EIO…) means data could not be read and must reach the run's record.
 */
export function isVanished(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Whether an error comes from the file system (a Node errno code), not from the store or a bug. */
export function isFileError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
