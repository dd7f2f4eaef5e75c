import * as vscode from 'vscode';
import type { RunHandle, RunOutput } from '../../../core/launch/runner.ts';
import type { SweepHandle, SweepOutput } from '../../../core/launch/sweep.ts';
import type { StoreChange } from '../../../core/store/changes.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Run } from '../../../core/store/types.ts';
import { settings } from '../../settings.ts';
import type { Container } from '../../container.ts';
import { RunTerminal, terminalName } from '../../runTerminal.ts';

export interface LaunchPresentation {
  /** Create a terminal with the live output (default true). */
  terminal?: boolean;
  /** Bring it to the front and show a progress notification until the run starts (the interactive path). */
  interactive?: boolean;
}

/** What launch commands return to programmatic callers. */
export interface LaunchResult {
  runId: number;
  /** The record when the command returned: final with `wait`, else just launched. */
  run: Run;
}

/**
 * Launches one run with its output in a terminal named after it, tracked so Stop, Ctrl-C and
 * window shutdown reach it through its handle.
 */
export async function launchTracked(container: Container, start: (output: RunOutput) => RunHandle | Promise<RunHandle>, presentation: LaunchPresentation): Promise<RunHandle> {
  const pty = new RunTerminal();
  const log = container.log;
  let handle: RunHandle;
  try {
    handle = await start({
      stdout: (chunk) => pty.stdout(chunk),
      stderr: (chunk) => pty.stderr(chunk),
      warning: (text) => {
        pty.warn(text);
        log.warn(`run ${handle?.run.id ?? '?'}: ${text}`);
      },
    });
  } catch (err) {
    pty.dispose();
    throw err;
  }
  const { run } = handle;
  log.info(`Launched run ${run.id} (${run.name}): ${run.command.join(' ')}`);
  pty.info(`run ${run.id} (${run.name}): ${run.command.join(' ')}`);
  pty.onInterrupt = (count) => void handle.stop(count === 1 ? settings.stopGraceMs() : 0);
  container.runs.add({ runId: run.id, kind: 'run', stop: (graceMs) => handle.stop(graceMs), done: handle.done });
  if (presentation.terminal !== false) container.runs.openTerminal(run.id, terminalName(run), pty, presentation.interactive === true);
  handle.done.then(
    (ended) => {
      pty.end(ended);
      log.info(`Run ${ended.id} ${ended.status}${ended.error ? `: ${ended.error}` : ''}`);
    },
    (err: Error) => log.error(`Run ${run.id} failed to finish`, err),
  );
  return handle;
}

/** A sweep with a terminal listing its runs as they start and end; Ctrl-C there stops the sweep. */
export function launchSweepTracked(container: Container, start: (output: SweepOutput) => SweepHandle, presentation: LaunchPresentation): SweepHandle {
  const pty = new RunTerminal();
  const log = container.log;
  let sweep: SweepHandle;
  try {
    sweep = start({
      started: (run) => pty.info(`run ${run.id} (${run.name}) started`),
      ended: (run) => pty.info(`run ${run.id} (${run.name}) ${run.status}${run.error ? `: ${run.error}` : ''}`),
      warning: (text) => {
        pty.warn(text);
        log.warn(text);
      },
    });
  } catch (err) {
    pty.dispose();
    throw err;
  }
  const { parent, children } = sweep;
  log.info(`Launched sweep ${parent.id} (${parent.name}): ${children.length} runs`);
  pty.info(`sweep ${parent.id} (${parent.name}): ${children.length} runs`);
  pty.onInterrupt = (count) => void sweep.stop(count === 1 ? settings.stopGraceMs() : 0);
  container.runs.add({ runId: parent.id, kind: 'sweep', stop: (graceMs) => sweep.stop(graceMs), done: sweep.done });
  if (presentation.terminal !== false) container.runs.openTerminal(parent.id, terminalName(parent), pty, presentation.interactive === true);
  sweep.done.then(
    (ended) => pty.end(ended),
    (err: Error) => log.error(`Sweep ${parent.id} failed to finish`, err),
  );
  return sweep;
}

/**
 * A progress notification until the run has started (or ended); cancelling it stops the run.
 * Starting takes a moment: the code and inputs are snapshotted first.
 */
export async function showStarting(store: Store, changes: vscode.Event<StoreChange>, runId: number, title: string, done: Promise<Run>, stop: () => Promise<void>): Promise<void> {
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
    const started = () => store.run(runId)?.status !== 'queued';
    if (started()) return;
    await new Promise<void>((resolve) => {
      const subscriptions: { dispose(): void }[] = [];
      const finish = () => {
        for (const s of subscriptions) s.dispose();
        resolve();
      };
      subscriptions.push(
        changes((change) => {
          if ((change.everything || change.runs.includes(runId)) && started()) finish();
        }),
        token.onCancellationRequested(() => {
          void stop();
          finish();
        }),
      );
      done.then(finish, finish);
    });
  });
}
