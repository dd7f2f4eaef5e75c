import { MlflowClient } from '../../core/sync/client.ts';
import { credentialsFrom, resolveRemote, type Remote } from '../../core/sync/remotes.ts';
import { resolveDbPath, workspaceOf } from '../../core/workspace.ts';
import type { CliContext } from '../command.ts';

/** The remote `--remote NAME|URL` names and a client for it with MLflow's credentials from the environment. */
export function remoteClient(ctx: CliContext, db: string | undefined, ref: string | undefined): { remote: Remote; client: MlflowClient } {
  const remote = resolveRemote(workspaceOf(resolveDbPath(db, ctx.cwd, ctx.env)), ref);
  const timeout = Number(ctx.env.RUNBOARD_SYNC_TIMEOUT_MS) || undefined;
  const backoff = ctx.env.RUNBOARD_SYNC_BACKOFF_MS === undefined ? undefined : Number(ctx.env.RUNBOARD_SYNC_BACKOFF_MS);
  return {
    remote,
    client: new MlflowClient({
      url: remote.url,
      credentials: credentialsFrom(ctx.env),
      ...(timeout ? { timeoutMs: timeout } : {}),
      ...(backoff !== undefined && Number.isFinite(backoff) ? { backoffMs: backoff } : {}),
    }),
  };
}

/** At most one progress line a second on stderr: a push of a million points says where it is without flooding. */
export function throttled(write: (line: string) => void, everyMs = 1000): (line: string) => void {
  let last = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    write(line);
  };
}
