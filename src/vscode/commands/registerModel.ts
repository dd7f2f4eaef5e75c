import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { pickleWarning } from '../../core/registry/pickles.ts';
import { hashModel, IdenticalVersionError, validateAlias, validateName, type ModelVersion, type Registry, type RegisterSpec } from '../../core/registry/registry.ts';
import type { Artifact } from '../../core/store/types.ts';
import { formatBytes } from '../../core/format.ts';
import { COMMANDS } from '../commandIds.ts';
import { fileOfArgs, optionsOf, pickRun, requireRun } from './shared/args.ts';
import { runIdsOfArgs } from './shared/runArgs.ts';
import { fetchPulledArtifact } from '../sync/pulledArtifacts.ts';
import type { CommandSpec } from './command.ts';
import { overridingGates } from './shared/gates.ts';
import { confirmPickle } from './shared/pickles.ts';
import { locateModelFile, suggestedModelName, type ModelFile } from './shared/modelFiles.ts';

export interface RegisterModelOptions {
  runId?: number;
  /** Path inside the run's output folder. */
  artifact?: string;
  /** Any model file (absolute, or relative to the workspace): matched to its run when it lies in one's folder. */
  file?: string;
  name?: string;
  aliases?: string[];
  /** Register even when the profile's promotion gates fail (recorded on the version). */
  force?: boolean;
  /** Offer "Deploy…" once registered (interactive calls; default true). */
  offerDeploy?: boolean;
}

const REGISTER_ANYWAY = 'Register Anyway';
const DEPLOY = 'Deploy…';

/**
 * Register Model…: a run's artifact becomes the next version of a named model, with the run's
 * metrics, params, inputs and code as its lineage. Invoked on an artifact node it registers that
 * file; on a run it asks which artifact. From the Explorer (a Uri), a file inside a run's folder
 * (`.runboard/runs/<id>/`) is matched to its run and artifact; any other file is registered
 * without lineage, and the user is told why. Failing promotion gates ask before forcing.
 * Registering copies a file and never runs it, so it is allowed in Restricted Mode, except for a
 * pickle that no run here wrote: that one is asked about (deploying it would run its code).
 */
export const registerModelCommand: CommandSpec = {
  id: COMMANDS.registerModel,
  async run(container, _views, ...args): Promise<ModelVersion | undefined> {
    const options = optionsOf<RegisterModelOptions>(args);
    const store = await container.store();
    const registry = await container.registry();
    const node = args[0] as { kind?: string; artifact?: Artifact } | undefined;
    const interactive = options.name === undefined;
    const file = fileOfArgs(args) ?? (options.file !== undefined ? resolve(container.workspace, options.file) : undefined);

    let located: ModelFile | undefined;
    if (file !== undefined) {
      if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`No model file at ${file}`);
      located = locateModelFile(store, registry, file);
      if (located.kind === 'stored') throw new UserError(`${basename(file)} is the registry's copy of ${located.version.name}@${located.version.version}: it is registered already`);
    }

    let runId: number | undefined;
    let artifact: string | undefined;
    if (located?.kind === 'run') {
      runId = located.run.id;
      artifact = located.artifact;
    } else if (located === undefined) {
      runId = runIdsOfArgs(args)[0];
      if (runId === undefined) {
        const picked = await pickRun(store, { title: 'Register Model: from which run?', statuses: ['finished'], empty: 'No finished run to register a model from yet.' });
        if (!picked) return undefined;
        runId = picked.id;
      }
      const run = requireRun(store, runId);
      artifact = options.artifact ?? (node?.kind === 'artifact' ? node.artifact?.path : undefined);
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
    }
    const run = runId === undefined ? undefined : requireRun(store, runId);
    // A teammate's (pulled) run keeps its artifacts on the remote until one is needed.
    if (run && artifact !== undefined) await fetchPulledArtifact(container, run.id, artifact);

    let name = options.name;
    if (name === undefined) {
      const suggested = run ? suggestedModelName({ kind: 'run', path: '', run, artifact: artifact ?? '' }) : suggestedModelName(located!);
      name = await vscode.window.showInputBox({
        title: `Register Model: name${located?.kind === 'file' ? ' (no lineage)' : ''}`,
        prompt: 'Letters, digits, "-", "_" and "."; an existing name gets a new version',
        value: suggested,
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

    const spec: RegisterSpec = run
      ? { name, run: run.id, artifact, aliases: aliases ?? [], force: options.force ?? false }
      : { name, file: located!.path, aliases: aliases ?? [] };
    const path = run?.runDir && artifact !== undefined ? join(run.runDir, artifact) : located?.path;
    const vouched = run !== undefined && store.artifacts(run.id).some((a) => a.path === artifact);
    if (path !== undefined && !(await confirmPickle(container.trust, pickleWarning(path, vouched), 'register', interactive))) return undefined;
    if (interactive && path !== undefined && !(await confirmNotDuplicate(registry, name, path))) return undefined;
    // Asked above when a person registers; a programmatic caller decides for itself what it registers.
    spec.allowIdentical = true;
    // The spec carries options.force; only the retry forces.
    const version = await overridingGates((force) => registry.register(force ? { ...spec, force: true } : spec), {
      ask: interactive,
      question: 'Register it anyway? The failing gates are recorded on the version.',
      button: REGISTER_ANYWAY,
    });
    if (!version) return undefined;
    const from = run ? `run ${run.id} (${artifact})` : `${located!.path} (no lineage)`;
    container.log.info(`Registered ${version.name}@${version.version} from ${from}`);
    if (located?.kind === 'file') {
      // Said every time, also to programmatic callers' users: a version without lineage cannot be traced back.
      void vscode.window.showWarningMessage(
        `Registered ${version.name}@${version.version} with no lineage: ${located.reason}. It has no metrics, data fingerprints or commit; launch the training through Runboard to keep them.`,
      );
    } else if (interactive && options.offerDeploy !== false) {
      void vscode.window.showInformationMessage(`Registered ${version.name}@${version.version} from run ${version.runId}.`, DEPLOY).then((choice) => {
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

const REGISTER_AGAIN = 'Register Again';

/** A file identical to the newest version would only add a copy: say so, and register it only if asked. */
async function confirmNotDuplicate(registry: Registry, name: string, path: string): Promise<boolean> {
  if (registry.list(name).length === 0 || !existsSync(path)) return true;
  // hashModel, not a file hash: a model folder (MLflow's layout) is compared by its manifest.
  const latest = registry.identicalLatest(name, hashModel(path).sha256);
  if (!latest) return true;
  const choice = await vscode.window.showInformationMessage(new IdenticalVersionError(latest, 'Register it again?').message, REGISTER_AGAIN);
  return choice === REGISTER_AGAIN;
}
