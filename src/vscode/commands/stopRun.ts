import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { stopRun } from '../../core/launch/stop.ts';
import { assertLocalRun } from '../../core/sync/readOnly.ts';
import { isTerminal, type Run } from '../../core/store/types.ts';
import { settings } from '../settings.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf, pickRun, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';

export interface StopRunOptions {
  runId?: number;
  /** Seconds between SIGTERM and SIGKILL; default `runboard.stopGraceSeconds`. */
  graceSeconds?: number;
}

/**
 * Stop Run: SIGTERM to the run's process group, SIGKILL after the grace period, recorded as
 * killed. Takes a run id, a tree node, a selection of nodes, or prompts for a running run.
 * Resolves with the final records (one per run asked).
 */
export const stopRunCommand: CommandSpec = {
  id: COMMANDS.stopRun,
  async run(container, _views, ...args): Promise<Run[] | undefined> {
    container.trust.require('stop a run');
    const options = optionsOf<StopRunOptions>(args);
    const store = await container.store();
    let ids = runIdsOfArgs(args);
    if (ids.length === 0) {
      // A teammate's pulled run shows "running" while it runs on its server: not ours to stop.
      const picked = await pickRun(store, { title: 'Stop Run', statuses: ['running', 'queued'], empty: 'No run of this workspace is running.', localOnly: true });
      if (!picked) return undefined;
      ids = [picked.id];
    }
    const graceMs = options.graceSeconds !== undefined && Number.isFinite(options.graceSeconds) && options.graceSeconds >= 0 ? options.graceSeconds * 1000 : settings.stopGraceMs();
    // Refused before any is signalled: a pulled run is stopped on its team server's side.
    for (const id of ids) assertLocalRun(store, requireRun(store, id));
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Stopping ${ids.length === 1 ? `run ${ids[0]}` : `${ids.length} runs`}…` },
      () => Promise.all(ids.map((id) => stopOne(container, id, graceMs))),
    );
  },
};

async function stopOne(container: Container, runId: number, graceMs: number): Promise<Run> {
  const store = await container.store();
  const run = requireRun(store, runId);
  if (isTerminal(run.status)) return run;
  const active = container.runs.get(runId);
  if (active) {
    await active.stop(graceMs);
  } else {
    // Launched by the CLI or another window: the core finds it through its recorded pid.
    const result = await stopRun(store, runId, { graceMs });
    if (result.alreadyEnded) return result.run;
  }
  const ended = store.run(runId);
  if (!ended) throw new UserError(`Run ${runId} was deleted while it was being stopped`);
  return ended;
}
