import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import type { LineageRef } from '../../core/registry/lineage.ts';
import type { ModelSummary, ModelVersion, Registry } from '../../core/registry/registry.ts';
import type { Deployment } from '../../core/deploy/types.ts';
import type { Run } from '../../core/store/types.ts';
import { LineagePanel } from '../webviews/lineage/lineagePanel.ts';
import { parseRoot } from '../webviews/lineage/presenter.ts';
import { lineageOpener } from '../webviews/lineage/register.ts';
import { COMMANDS } from '../commandIds.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import type { CommandSpec } from './command.ts';

/**
 * Reveal Lineage: opens the lineage panel (dataset(s) → run → model version → deployment) on a
 * deployment, a model version (or a model's newest version) or a run, given as a node of one of
 * the views, as `"deployment:4"`-style text, or as `{ kind, id }`. Without one it asks.
 */
export const revealLineageCommand: CommandSpec = {
  id: COMMANDS.revealLineage,
  async run(container, views, arg): Promise<LineageRef | undefined> {
    const store = await container.store();
    const registry = await container.registry();
    const root = rootOf(arg, registry) ?? (await pick(registry, store.runs({ limit: 50 }), (await container.deploymentRecords()).list().slice(0, 50)));
    if (!root) return undefined;
    await LineagePanel.show(container, root, lineageOpener(container, views));
    return root;
  },
};

function rootOf(arg: unknown, registry: Registry): LineageRef | undefined {
  if (arg === undefined || arg === null) return undefined;
  const fromText = parseRoot(arg);
  if (fromText) return fromText;
  const node = arg as { kind?: unknown; id?: unknown; deployment?: Deployment; version?: ModelVersion; model?: ModelSummary };
  if (node.kind === 'deployment' && node.deployment) return { kind: 'deployment', id: node.deployment.id };
  if (node.kind === 'version' && node.version) return { kind: 'model_version', id: node.version.id };
  if (node.kind === 'model' && node.model) return { kind: 'model_version', id: registry.resolve(node.model.name).id };
  if (typeof node.kind === 'string' && typeof node.id === 'number' && parseRoot(`${node.kind}:${node.id}`)) return parseRoot(`${node.kind}:${node.id}`);
  const runId = runIdsOfArgs([arg])[0];
  if (runId !== undefined) return { kind: 'run', id: runId };
  throw new UserError('Reveal Lineage works on a deployment, a model version or a run');
}

async function pick(registry: Registry, runs: Run[], deployments: Deployment[]): Promise<LineageRef | undefined> {
  const items = [
    ...deployments.map((d) => ({ label: `$(rocket) ${d.model}@${d.version} → ${d.target}`, description: `deployment ${d.id} · ${d.status}`, root: { kind: 'deployment', id: d.id } as LineageRef })),
    ...registry.list().map((v) => ({ label: `$(package) ${v.name}@${v.version}`, description: v.aliases.join(', '), root: { kind: 'model_version', id: v.id } as LineageRef })),
    ...runs.map((r) => ({ label: `$(beaker) ${r.name}`, description: `run ${r.id} · ${r.status}`, root: { kind: 'run', id: r.id } as LineageRef })),
  ];
  if (items.length === 0) throw new UserError('Nothing recorded yet: lineage starts with a run.');
  const picked = await vscode.window.showQuickPick(items, { title: 'Reveal Lineage', placeHolder: 'Of which deployment, model version or run?', matchOnDescription: true });
  return picked?.root;
}
