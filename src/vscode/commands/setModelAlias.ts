import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { CHAMPION, validateAlias, type AliasMove, type ModelVersion } from '../../core/registry/registry.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { CommandSpec } from './command.ts';

export interface SetAliasOptions {
  /** NAME@VERSION (or any ref) when not invoked on a version of the Models view. */
  model?: string;
  alias?: string;
}

/** Offered besides the aliases the model already has. */
const USUAL = [CHAMPION, 'staging', 'production'];
const NEW = '$(add) New alias…';

/**
 * Set Alias…: points an alias of the model (existing or new) at this version; the move is
 * recorded in the alias history. Registry bookkeeping only, so allowed in Restricted Mode.
 */
export const setModelAliasCommand: CommandSpec = {
  id: COMMANDS.setModelAlias,
  async run(container, _views, ...args): Promise<AliasMove | null | undefined> {
    const options = optionsOf<SetAliasOptions>(args);
    const registry = await container.registry();
    const node = args[0] as { kind?: string; version?: ModelVersion } | undefined;
    const version = node?.kind === 'version' && node.version ? registry.byId(node.version.id) : options.model ? registry.resolve(options.model) : undefined;
    if (!version) throw new UserError('Set Alias needs a model version: run it from the Models view');

    let alias = options.alias;
    if (alias === undefined) {
      const current = registry.models().find((m) => m.name === version.name)?.aliases ?? {};
      const names = [...new Set([...Object.keys(current).sort(), ...USUAL])];
      const picked = await vscode.window.showQuickPick(
        [
          ...names.map((name) => ({
            label: name,
            description: current[name] === undefined ? 'new' : current[name] === version.version ? 'already this version' : `now v${current[name]}`,
          })),
          { label: NEW, description: '' },
        ],
        { title: `Set an alias of ${version.name} to v${version.version}`, placeHolder: 'Which alias?' },
      );
      if (!picked) return undefined;
      alias = picked.label;
      if (picked.label === NEW) {
        const typed = await vscode.window.showInputBox({
          title: `New alias of ${version.name}@${version.version}`,
          prompt: 'Letters, digits, "-", "_" and "."; not a number, not "latest"',
          ignoreFocusOut: true,
          validateInput: (text) => {
            try {
              validateAlias(text.trim());
              return undefined;
            } catch (err) {
              return (err as Error).message;
            }
          },
        });
        if (typed === undefined) return undefined;
        alias = typed.trim();
      }
    }
    const move = registry.setAlias(version.name, alias, version.version);
    container.log.info(move ? `${version.name}: ${alias} moved ${move.fromVersion === null ? 'to' : `from v${move.fromVersion} to`} v${version.version}` : `${version.name}: ${alias} already pointed at v${version.version}`);
    if (!options.alias) {
      void vscode.window.showInformationMessage(
        move ? `${version.name}@${alias} is now v${version.version}${move.fromVersion !== null ? ` (was v${move.fromVersion})` : ''}.` : `${version.name}@${alias} already is v${version.version}.`,
      );
    }
    return move;
  },
};
