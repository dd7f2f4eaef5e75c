// No `vscode` import: the `runboard:` code documents' paths, tested on plain Node.

/** The path of a run's code document in the `runboard:` scheme, and back. */
export function codeStatePath(runId: number, name: string): string {
  return `/compare/code/${runId}/${name.replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 60) || 'run'}.txt`;
}

export function runIdFromCodeStatePath(path: string): number | undefined {
  const m = /^\/compare\/code\/(\d+)\//.exec(path);
  return m ? Number(m[1]) : undefined;
}
