import * as vscode from 'vscode';
import { UserError } from '../../../core/errors.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Run, RunStatus } from '../../../core/store/types.ts';
import { runIdOf, type ExperimentsNode } from '../../views/experiments/nodes.ts';
import { formatTime } from '../../views/format.ts';

const NODE_KINDS = new Set(['run', 'group', 'param', 'metric', 'artifact', 'input', 'code']);

/** A run id from what a caller may pass: 12, "12", { runId: 12 }, or a node of the Experiments tree. */
export function runIdOfArg(arg: unknown): number | undefined {
  if (typeof arg === 'number' && Number.isSafeInteger(arg) && arg > 0) return arg;
  if (typeof arg === 'string' && /^\d+$/.test(arg.trim())) return Number(arg.trim());
  if (typeof arg === 'object' && arg !== null) {
    const value = arg as { kind?: unknown; runId?: unknown };
    if (typeof value.kind === 'string' && NODE_KINDS.has(value.kind)) return runIdOf(arg as ExperimentsNode);
    if (value.runId !== undefined) return runIdOfArg(value.runId);
  }
  return undefined;
}

/**
 * Every run a command was invoked on. A context-menu command on a multi-selection gets
 * (clicked node, all selected nodes); a programmatic call may pass ids or an array of them.
 */
export function runIdsOfArgs(args: readonly unknown[]): number[] {
  const [first, second] = args;
  const candidates = Array.isArray(second) && second.length ? second : Array.isArray(first) ? first : [first];
  return [...new Set(candidates.map(runIdOfArg).filter((id): id is number => id !== undefined))];
}

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

/** A quick pick of recent runs; undefined when dismissed. */
export async function pickRun(store: Store, options: { title: string; statuses?: RunStatus[]; empty: string }): Promise<Run | undefined> {
  const runs = (options.statuses ? options.statuses.flatMap((status) => store.runs({ status, limit: 200 })) : store.runs({ limit: 200 })).sort((a, b) => b.id - a.id);
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
