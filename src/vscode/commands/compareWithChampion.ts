import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { CHAMPION, type ModelVersion } from '../../core/registry/registry.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { CommandSpec } from './command.ts';

/**
 * Compare with Champion: opens the compare panel on the runs that produced the model's
 * `champion` version and this one (champion first). Returns the two run ids.
 */
export const compareWithChampionCommand: CommandSpec = {
  id: COMMANDS.compareWithChampion,
  async run(container, _views, ...args): Promise<[number, number] | undefined> {
    const store = await container.store();
    const registry = await container.registry();
    const node = args[0] as { kind?: string; version?: ModelVersion } | undefined;
    const ref = optionsOf<{ model: string }>(args).model;
    const version = node?.kind === 'version' && node.version ? registry.byId(node.version.id) : ref ? registry.resolve(ref) : undefined;
    if (!version) throw new UserError('Compare with Champion needs a model version: run it from the Models view');
    const championVersion = registry.models().find((m) => m.name === version.name)?.aliases[CHAMPION];
    if (championVersion === undefined) throw new UserError(`${version.name} has no "${CHAMPION}" alias yet: give one version that alias first (Set Alias…)`);
    if (championVersion === version.version) throw new UserError(`${version.name}@${version.version} is the champion itself`);
    const champion = registry.get(version.name, championVersion)!;
    const runOf = (v: ModelVersion): number => {
      if (v.runId === null) throw new UserError(`${v.name}@${v.version} was registered from a file: it has no run to compare`);
      if (!store.run(v.runId)) throw new UserError(`Run ${v.runId}, which produced ${v.name}@${v.version}, was deleted`);
      return v.runId;
    };
    const runs: [number, number] = [runOf(champion), runOf(version)];
    if (runs[0] === runs[1]) throw new UserError(`${version.name}@${version.version} and the champion (v${championVersion}) come from the same run ${runs[0]}`);
    await vscode.commands.executeCommand(COMMANDS.compareRuns, runs);
    const named = (v: ModelVersion): string => `${store.run(v.runId!)?.name ?? 'run'} (#${v.runId})`;
    void vscode.window.showInformationMessage(
      `Runboard: comparing the champion ${version.name}@${championVersion}, from ${named(champion)}, with ${version.name}@${version.version}, from ${named(version)}.`,
    );
    return runs;
  },
};
