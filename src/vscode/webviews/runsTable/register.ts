import type * as vscode from 'vscode';
import type { Container } from '../../container.ts';
import type { Views } from '../../views/views.ts';
import { registerPanelSerializer } from '../host.ts';
import { RUNS_TABLE_VIEW_TYPE, RunsTablePanel } from './runsTablePanel.ts';

/**
 * The Runs Table's serializer and live updates. The command that opens it, Open Runs Table, is
 * src/vscode/commands/openRunsTable.ts.
 */
export function registerRunsTable(container: Container, views: Views): vscode.Disposable[] {
  return [
    registerPanelSerializer(container, RUNS_TABLE_VIEW_TYPE, (panel) => RunsTablePanel.revive(container, views, panel)),
    container.changes.onDidChange((change) => RunsTablePanel.current?.changed(change)),
    { dispose: () => RunsTablePanel.current?.dispose() },
  ];
}
