import * as vscode from 'vscode';
import { UserError } from '../../../core/errors.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Run, RunStatus } from '../../../core/store/types.ts';
import { formatTime } from '../../views/format.ts';

/** The options object of a programmatic call (the first plain object that is not a tree node or a Uri). */
export function optionsOf<T extends object>(args: readonly unknown[]): Partial<T> {
  for (const arg of args) {
    if (typeof arg === 'object' && arg !== null && !Array.isArray(arg) && !('kind' in arg) && !(arg instanceof vscode.Uri)) return arg as Partial<T>;
  }
  return {};
}

/** The file an Explorer context menu was invoked on (`file:` Uris only), or undefined. */
export function fileOfArgs(args: readonly unknown[]): string | undefined {
  const uri = args.find((arg): arg is vscode.Uri => arg instanceof vscode.Uri);
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}

export function requireRun(store: Store, runId: number): Run {
  const run = store.run(runId);
  if (!run) throw new UserError(`No run ${runId} in ${store.file}`);
  return run;
}

/** A quick pick of recent runs (only this workspace's own when `localOnly`); undefined when dismissed. */
export async function pickRun(store: Store, options: { title: string; statuses?: RunStatus[]; empty: string; localOnly?: boolean }): Promise<Run | undefined> {
  const recent = (options.statuses ? options.statuses.flatMap((status) => store.runs({ status, limit: 200 })) : store.runs({ limit: 200 })).sort((a, b) => b.id - a.id);
  const runs = options.localOnly ? recent.filter((run) => store.sync.runRemote(run.id) === null) : recent;
  if (runs.length === 0) throw new UserError(options.empty);
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: run.name,
      description: `${run.status} · ${run.experiment}`,
      detail: `run ${run.id} · ${formatTime(run.startedAt ?? run.createdAt)}`,
      run,
    })),
    { title: options.title, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.run;
}

/** How many recent runs the multi-select picker offers. */
const PICK_MANY_LIMIT = 300;

/** A multi-select pick of recent runs; undefined when cancelled. */
export async function pickRuns(store: Store, options: { preselected: number[]; title: string; placeHolder: string }): Promise<number[] | undefined> {
  const runs = store.runs({ limit: PICK_MANY_LIMIT });
  for (const id of options.preselected) {
    if (!runs.some((r) => r.id === id)) {
      const run = store.run(id);
      if (run) runs.unshift(run);
    }
  }
  if (runs.length === 0) throw new UserError('No runs yet: launch or import a run first.');
  const items = runs.map((run) => {
    const params = Object.entries(store.params(run.id))
      .slice(0, 6)
      .map(([k, v]) => `${k}=${v}`)
      .join('  ');
    return {
      label: run.name,
      description: `#${run.id} · ${run.experiment} · ${run.status}`,
      detail: params || undefined,
      picked: options.preselected.includes(run.id),
      id: run.id,
    };
  });
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, matchOnDescription: true, matchOnDetail: true, title: options.title, placeHolder: options.placeHolder });
  return picked?.map((p) => p.id);
}
