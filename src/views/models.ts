import * as vscode from 'vscode';
import { Registry, type ModelSummary, type ModelVersion } from '../core/registry/registry.ts';
import { displayPath, type RunboardServices } from '../host.ts';
import type { DatabaseChanges } from './changes.ts';
import { formatBytes, formatTime, SafeMarkdown } from './format.ts';

export const MODELS_VIEW = 'runboard.models';

export type ModelsNode =
  | { kind: 'model'; model: ModelSummary }
  | { kind: 'version'; version: ModelVersion }
  | { kind: 'message'; text: string };

/** Registered models → their versions (newest first), with aliases. */
export class ModelsTree implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ModelsNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private readonly services: RunboardServices;

  constructor(services: RunboardServices, changes: DatabaseChanges) {
    this.services = services;
    this.disposables.push(changes.onDidChange(() => this.refresh()));
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(node?: ModelsNode): Promise<ModelsNode[]> {
    if (!this.services.hasDatabase()) return [];
    try {
      const registry = new Registry(await this.services.store(), this.services.workspace);
      if (!node) return registry.models().map((model) => ({ kind: 'model', model }));
      if (node.kind === 'model') return registry.list(node.model.name).map((version) => ({ kind: 'version', version }));
      return [];
    } catch (err) {
      this.services.log.error('Reading the Models view failed', err as Error);
      return [{ kind: 'message', text: `Cannot read models: ${(err as Error).message}` }];
    }
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'model': {
        const { model } = node;
        const item = new vscode.TreeItem(model.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `model:${model.name}`;
        item.iconPath = new vscode.ThemeIcon('package');
        const aliases = Object.entries(model.aliases).map(([alias, version]) => `${alias}→v${version}`);
        item.description = [`${model.versions} version${model.versions === 1 ? '' : 's'}`, ...aliases].join(' · ');
        item.contextValue = 'model';
        return item;
      }
      case 'version': {
        const v = node.version;
        const item = new vscode.TreeItem(`v${v.version}`);
        item.id = `modelVersion:${v.id}`;
        item.iconPath = new vscode.ThemeIcon(v.aliases.length ? 'tag' : 'circle');
        item.description = [v.aliases.join(', '), v.runId !== null ? `run ${v.runId}` : 'no lineage', formatBytes(v.size)].filter(Boolean).join(' · ');
        const md = new SafeMarkdown().raw('**').text(`${v.name}@${v.version}`).raw('**  \n');
        md.field('Registered', formatTime(v.createdAt)).field('File', displayPath(this.services.workspace, v.storedPath)).field('sha256', v.sha256);
        if (v.runId !== null) md.field('Run', String(v.runId));
        if (v.aliases.length) md.field('Aliases', v.aliases.join(', '));
        if (v.forced?.length) md.field('Registered despite failing gates', v.forced.join('; '));
        if (v.snapshot.note) md.field('Note', v.snapshot.note);
        item.tooltip = md.md;
        item.contextValue = 'modelVersion';
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        return item;
      }
      default: {
        const never: never = node;
        return never;
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
