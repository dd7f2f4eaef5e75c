import * as vscode from 'vscode';
import { UserError } from '../core/errors.ts';
import { GateError, Registry, validateAlias, validateName, type ModelVersion } from '../core/registry/registry.ts';
import type { Artifact } from '../core/store/types.ts';
import { formatBytes } from '../views/format.ts';
import { COMMANDS } from './ids.ts';
import { optionsOf, pickRun, requireRun, runIdsOfArgs } from './shared/args.ts';
import type { CommandSpec } from './shared/context.ts';

export interface RegisterModelOptions {
  runId?: number;
  /** Path inside the run's output folder. */
  artifact?: string;
  name?: string;
  aliases?: string[];
  /** Register even when the profile's promotion gates fail (recorded on the version). */
  force?: boolean;
}

const REGISTER_ANYWAY = 'Register Anyway';
const DEPLOY = 'Deploy…';

/**
 * Register Model…: a run's artifact becomes the next version of a named model, with the run's
 * metrics, params, inputs and code as its lineage. Invoked on an artifact node it registers that
 * file; on a run it asks which artifact. Failing promotion gates ask before forcing.
 */
export const registerModelCommand: CommandSpec = {
  id: COMMANDS.registerModel,
  async run(ctx, ...args): Promise<ModelVersion | undefined> {
    const options = optionsOf<RegisterModelOptions>(args);
    const store = await ctx.services.store();
    const node = args[0] as { kind?: string; artifact?: Artifact } | undefined;
    let runId = runIdsOfArgs(args)[0];
    const interactive = options.name === undefined;
    if (runId === undefined) {
      const picked = await pickRun(store, { title: 'Register Model: from which run?', statuses: ['finished'], empty: 'No finished run to register a model from yet.' });
      if (!picked) return undefined;
      runId = picked.id;
    }
    const run = requireRun(store, runId);
    let artifact = options.artifact ?? (node?.kind === 'artifact' ? node.artifact?.path : undefined);
    if (artifact === undefined) {
      const artifacts = store.artifacts(run.id).sort((a, b) => Number(b.kind === 'model') - Number(a.kind === 'model') || a.path.localeCompare(b.path));
      if (artifacts.length === 0) throw new UserError(`Run ${run.id} (${run.name}) recorded no artifacts to register`);
      const picked = await vscode.window.showQuickPick(
        artifacts.map((a) => ({ label: a.path, description: `${a.kind} · ${formatBytes(a.size)}`, artifact: a })),
        { title: `Register Model from ${run.name}`, placeHolder: 'Which file is the model?' },
      );
      if (!picked) return undefined;
      artifact = picked.artifact.path;
    }
    let name = options.name;
    if (name === undefined) {
      name = await vscode.window.showInputBox({
        title: 'Register Model: name',
        prompt: 'Letters, digits, "-", "_" and "."; an existing name gets a new version',
        value: (run.profile ?? run.experiment).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, ''),
        ignoreFocusOut: true,
        validateInput: (text) => problem(() => validateName(text.trim())),
      });
      if (name === undefined) return undefined;
      name = name.trim();
    }
    let aliases = options.aliases;
    if (aliases === undefined && interactive) {
      const text = await vscode.window.showInputBox({
        title: 'Register Model: aliases (optional)',
        prompt: 'Comma-separated, e.g. staging; leave empty for none',
        ignoreFocusOut: true,
        validateInput: (input) => problem(() => splitList(input).forEach((a) => validateAlias(a))),
      });
      if (text === undefined) return undefined;
      aliases = splitList(text);
    }

    const registry = new Registry(store, ctx.services.workspace);
    const spec = { name, run: run.id, artifact, aliases: aliases ?? [], force: options.force ?? false };
    let version: ModelVersion;
    try {
      version = registry.register(spec);
    } catch (err) {
      if (!(err instanceof GateError) || !interactive) throw err;
      const choice = await vscode.window.showWarningMessage(`${err.message}\n\nRegister it anyway? The failing gates are recorded on the version.`, { modal: true }, REGISTER_ANYWAY);
      if (choice !== REGISTER_ANYWAY) return undefined;
      version = registry.register({ ...spec, force: true });
    }
    ctx.services.log.info(`Registered ${version.name}@${version.version} from run ${run.id} (${artifact})`);
    if (interactive) {
      void vscode.window.showInformationMessage(`Registered ${version.name}@${version.version} from run ${run.id}.`, DEPLOY).then((choice) => {
        if (choice === DEPLOY) void vscode.commands.executeCommand(COMMANDS.deployModel, { model: `${version.name}@${version.version}` });
      });
    }
    return version;
  },
};

const splitList = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);

function problem(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
