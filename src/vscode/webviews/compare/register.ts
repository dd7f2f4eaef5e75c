import * as vscode from 'vscode';
import { codeStateDocument } from '../../../core/compare/codeState.ts';
import { UserError } from '../../../core/errors.ts';
import type { Store } from '../../../core/store/store.ts';
import type { Run } from '../../../core/store/types.ts';
import type { Container } from '../../container.ts';
import { ComparePanel } from './comparePanel.ts';
import { codeStatePath, runIdFromCodeStatePath, runIdsFromArgs } from './runArgs.ts';

export const COMPARE_COMMANDS = {
  compareRuns: 'runboard.compareRuns',
  showCodeDiff: 'runboard.showCodeDiff',
} as const;

/** Read-only documents of the `runboard:` scheme served here: a run's code state. */
export const RUNBOARD_SCHEME = 'runboard';

/** How many recent runs the pickers offer. */
const PICK_LIMIT = 300;

/**
 * The Compare feature's commands, the `runboard:` code documents and the panel serializer.
 * `runboard.compareRuns` takes run ids or tree nodes (`{ run: { id } }`, or VS Code's
 * `(node, selectedNodes)` from a multi-select context menu); with fewer than two it asks.
 * `runboard.showCodeDiff` opens VS Code's diff editor between two runs' code states.
 */
export function registerCompare(container: Container): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMPARE_COMMANDS.compareRuns, (...args: unknown[]) => guarded(container, () => compareRuns(container, args))),
    vscode.commands.registerCommand(COMPARE_COMMANDS.showCodeDiff, (...args: unknown[]) => guarded(container, () => showCodeDiff(container, args))),
    vscode.workspace.registerTextDocumentContentProvider(RUNBOARD_SCHEME, {
      async provideTextDocumentContent(uri) {
        const runId = runIdFromCodeStatePath(uri.path);
        // Another feature may serve other `runboard:` paths.
        if (runId === undefined) return undefined;
        return codeStateDocument(await container.store(), runId);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
      async deserializeWebviewPanel(panel, state) {
        try {
          await ComparePanel.revive(panel, container, state);
        } catch (err) {
          panel.dispose();
          container.log.error(`Compare: could not restore the panel: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
    }),
    { dispose: () => ComparePanel.current?.dispose() },
  ];
}

async function guarded(container: Container, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof UserError) {
      void vscode.window.showErrorMessage(err.message);
      return;
    }
    container.log.error(`Compare: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void vscode.window.showErrorMessage(`Runboard: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function compareRuns(container: Container, args: unknown[]): Promise<void> {
  let ids = runIdsFromArgs(args);
  if (ids.length < 2) {
    const store = await container.store();
    const picked = await pickRuns(store, { preselected: ids, title: 'Compare runs', placeHolder: 'Pick the runs to compare (two or more)' });
    if (!picked) return;
    ids = picked;
  }
  if (ids.length === 0) return;
  await ComparePanel.show(container, ids);
}

async function showCodeDiff(container: Container, args: unknown[]): Promise<void> {
  const store = await container.store();
  let ids = runIdsFromArgs(args);
  if (ids.length !== 2) {
    const picked = await pickRuns(store, { preselected: ids.slice(0, 2), title: 'Diff the code of two runs', placeHolder: 'Pick exactly two runs' });
    if (!picked) return;
    if (picked.length !== 2) throw new UserError(`Pick exactly two runs to diff their code (${picked.length} picked).`);
    ids = picked;
  }
  const [a, b] = ids.map((id) => store.run(id) ?? missing(id)) as [Run, Run];
  const uri = (run: Run) => vscode.Uri.from({ scheme: RUNBOARD_SCHEME, path: codeStatePath(run.id, run.name) });
  await vscode.commands.executeCommand('vscode.diff', uri(a), uri(b), `${a.name} ↔ ${b.name}`, { preview: true });
}

function missing(id: number): never {
  throw new UserError(`Run ${id} no longer exists.`);
}

/** A multi-select pick of recent runs; undefined when cancelled. */
async function pickRuns(store: Store, options: { preselected: number[]; title: string; placeHolder: string }): Promise<number[] | undefined> {
  const runs = store.runs({ limit: PICK_LIMIT });
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
