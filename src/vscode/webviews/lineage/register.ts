import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../../core/errors.ts';
import type { Container } from '../../container.ts';
import type { GraphNode } from '../../../shared/lineageProtocol.ts';
import { revealDeployment, revealModelVersion, revealRun } from '../../views/reveal.ts';
import type { Views } from '../../views/views.ts';
import { registerPanelSerializer } from '../host.ts';
import { LINEAGE_VIEW_TYPE, LineagePanel, type LineageOpener } from './lineagePanel.ts';

/**
 * The Lineage panel's serializer, live refresh and node actions. The command that opens it,
 * Reveal Lineage, is src/vscode/commands/revealLineage.ts.
 */
export function registerLineage(container: Container, views: Views): vscode.Disposable[] {
  const opener = lineageOpener(container, views);
  return [
    registerPanelSerializer(container, LINEAGE_VIEW_TYPE, (panel, state) => LineagePanel.revive(container, panel, state, opener)),
    // A deployment stopping or a new version registered shows in an open panel.
    container.changes.onDidChange((change) => LineagePanel.current?.changed(change)),
    { dispose: () => LineagePanel.current?.dispose() },
  ];
}

/** Enter on a node: a run is revealed in Experiments, a dataset opened, a model or deployment selected in its view. */
export function lineageOpener(container: Container, views: Views): LineageOpener {
  return async (node: GraphNode): Promise<void> => {
      switch (node.kind) {
        case 'run':
          await revealRun(container, views, node.id);
          return;
        case 'dataset': {
          const path = node.fields.find((f) => f.label === 'path')?.value;
          const file = path && (isAbsolute(path) ? path : resolve(container.workspace, path));
          if (!file || !existsSync(file)) throw new UserError(`The dataset ${path ?? node.title} is not on this machine any more`);
          await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
          return;
        }
        case 'model_version':
          await revealModelVersion(views, node.id);
          return;
        case 'deployment':
          await revealDeployment(views, node.id);
          return;
        default: {
          const never: never = node.kind;
          throw new Error(`unknown node kind ${String(never)}`);
        }
      }
  };
}
