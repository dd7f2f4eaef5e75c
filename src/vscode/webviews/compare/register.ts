import * as vscode from 'vscode';
import { codeStateDocument } from '../../../core/compare/codeState.ts';
import type { Container } from '../../container.ts';
import { registerPanelSerializer } from '../host.ts';
import { runIdFromCodeStatePath } from './codeStatePaths.ts';
import { COMPARE_VIEW_TYPE, ComparePanel } from './comparePanel.ts';

/** Read-only documents of the `runboard:` scheme served here: a run's code state. */
export const RUNBOARD_SCHEME = 'runboard';

/**
 * The Compare feature's `runboard:` code documents and panel serializer. Its commands, Compare
 * Selected Runs and Diff Code of Two Runs, are in the command table like every other.
 */
export function registerCompare(container: Container): vscode.Disposable[] {
  return [
    vscode.workspace.registerTextDocumentContentProvider(RUNBOARD_SCHEME, {
      async provideTextDocumentContent(uri) {
        const runId = runIdFromCodeStatePath(uri.path);
        // Another feature may serve other `runboard:` paths.
        if (runId === undefined) return undefined;
        return codeStateDocument(await container.store(), runId);
      },
    }),
    registerPanelSerializer(container, COMPARE_VIEW_TYPE, (panel, state) => ComparePanel.revive(container, panel, state)),
    { dispose: () => ComparePanel.current?.dispose() },
  ];
}
