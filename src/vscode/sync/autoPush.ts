import { resolveRemote } from '../../core/sync/remotes.ts';
import { selectRuns } from '../../core/sync/push.ts';
import { watchPush } from '../../core/sync/watch.ts';
import { workspaceOf } from '../../core/workspace.ts';
import type { Container } from '../container.ts';
import { Disposable, toDisposable } from '../lifecycle.ts';
import { settings } from '../settings.ts';
import { storedClient } from './remotes.ts';

const INTERVAL_MS = 60_000;
const MAX_BACKOFF_MS = 15 * 60_000;

/**
 * `runboard.sync.autoPush`: pushes this window's runs to the named remotes once they end, whenever
 * the server answers (push --watch's loop, in the background: nothing waits for it). Failures go
 * to the Runboard log, once each, never as a popup.
 */
export class AutoPush extends Disposable {
  private readonly container: Container;
  private controller: AbortController | undefined;

  constructor(container: Container) {
    super();
    this.container = container;
    this._register(toDisposable(() => this.controller?.abort()));
    if (container.openStore) this.restart();
    else this._register(container.onDidOpenStore(() => this.restart()));
  }

  /** Starts over with the setting's remotes (called when the setting changes). */
  restart(): void {
    this.controller?.abort();
    this.controller = undefined;
    const store = this.container.openStore;
    const names = settings.syncAutoPush();
    if (!store || names.length === 0 || this.isDisposed) return;
    const controller = (this.controller = new AbortController());
    const log = this.container.log;
    for (const name of names) {
      void (async () => {
        const remote = resolveRemote(workspaceOf(this.container.dbPath), name);
        const client = await storedClient(this.container, remote);
        log.info(`Auto-push to ${remote.name} (${remote.url}) started`);
        await watchPush(store, client, {
          select: () => selectRuns(store, { all: true }),
          intervalMs: INTERVAL_MS,
          maxBackoffMs: MAX_BACKOFF_MS,
          signal: controller.signal,
          onPushed: (summary) => log.info(`Auto-push to ${remote.name}: ${summary.sent.runs} runs, ${summary.sent.points} points`),
          onFailure: (line, retryInMs) => log.warn(`Auto-push to ${remote.name}: ${line}; trying again in ${Math.round(retryInMs / 1000)} s`),
          onRecovered: () => log.info(`Auto-push to ${remote.name}: the server answers again`),
        });
      })().catch((err: unknown) => log.warn(`Auto-push to ${name}: ${(err as Error).message}`));
    }
  }
}
