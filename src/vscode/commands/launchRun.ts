import { basename, extname, isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import type { ParamValue, ProfileProblem } from '../../core/launch/profiles.ts';
import { launch, launchProfile } from '../../core/launch/runner.ts';
import { chooseInterpreter } from '../python.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';
import { launchTracked, showStarting, type LaunchResult } from './shared/launching.ts';
import { openProblem, problemItem, profileItem, profilesOf, promptParams } from './shared/prompts.ts';

export interface LaunchRunOptions {
  /** A profile of `.runboard/profiles.json`. */
  profile?: string;
  /** Overrides of the profile's defaults, typed or as text ("0.1"). */
  params?: Record<string, ParamValue>;
  /** A Python file to run instead of a profile. */
  file?: string;
  experiment?: string;
  name?: string;
  /** More input files to fingerprint, relative to the workspace. */
  inputs?: string[];
  /** Resolve once the run has ended, with its final record. */
  wait?: boolean;
  /** Show the live output in a terminal (default true). */
  terminal?: boolean;
}

type Target = { profile: string; params: Record<string, ParamValue> } | { file: string };

/**
 * Launch Training Run…: a profile (or the current Python file), its params, then the run with a
 * terminal. With `{ profile }` or `{ file }` it prompts for nothing: `executeCommand(id,
 * { profile: 'train', params: { lr: 0.1 }, wait: true })` resolves with the finished run.
 */
export const launchRunCommand: CommandSpec = {
  id: COMMANDS.launchRun,
  async run(container, _views, ...args): Promise<LaunchResult | undefined> {
    container.trust.require('launch a run');
    container.requireWorkspace();
    const options = optionsOf<LaunchRunOptions>(args);
    const interactive = options.profile === undefined && options.file === undefined;
    const target: Target | undefined = interactive
      ? await promptTarget(container)
      : options.file !== undefined
        ? { file: options.file }
        : { profile: options.profile!, params: options.params ?? {} };
    if (!target) return undefined;

    const store = await container.store();
    const interpreter = await chooseInterpreter(vscode.Uri.file(container.workspace), container.log);
    const common = { dbPath: container.dbPath, workspace: container.workspace, experiment: options.experiment, name: options.name, mlflow: container.mlflow.forLaunches() };
    const handle = await launchTracked(
      container,
      (output) => {
        if ('profile' in target) {
          return launchProfile(store, { ...common, profile: target.profile, params: target.params, inputs: options.inputs, interpreter: interpreter.path }, output);
        }
        const file = isAbsolute(target.file) ? target.file : resolve(container.workspace, target.file);
        const python = interpreter.path ?? 'python3';
        return launch(
          store,
          {
            ...common,
            name: options.name ?? basename(file, extname(file)),
            command: [python, file],
            cwd: container.workspace,
            interpreter: python,
            inputs: (options.inputs ?? []).map((input) => resolve(container.workspace, input)),
          },
          output,
        );
      },
      { terminal: options.terminal, interactive },
    );
    if (interactive) await showStarting(store, container.changes.onDidChange, handle.run.id, `Runboard: starting ${handle.run.name}…`, handle.done, () => handle.stop());
    const run = options.wait ? await handle.done : (store.run(handle.run.id) ?? handle.run);
    return { runId: run.id, run };
  },
};

async function promptTarget(container: Container): Promise<Target | undefined> {
  const { profiles, problems } = profilesOf(container.workspace);
  const editor = vscode.window.activeTextEditor;
  const pythonFile = editor && editor.document.uri.scheme === 'file' && (editor.document.languageId === 'python' || editor.document.fileName.endsWith('.py')) ? editor.document : undefined;
  type Item = vscode.QuickPickItem & { pick?: 'file' | 'create'; profile?: ReturnType<typeof profileItem>['profile']; problem?: ProfileProblem };
  const items: Item[] = [...profiles.map(profileItem), ...problems.map(problemItem)];
  if (pythonFile) {
    items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: '$(file-code) Run current Python file', description: vscode.workspace.asRelativePath(pythonFile.uri), pick: 'file' });
  }
  if (profiles.length === 0 && problems.length === 0) items.push({ label: '$(new-file) Create a launch profile…', description: '.runboard/profiles.json', pick: 'create' });
  const picked = await vscode.window.showQuickPick(items, { title: 'Launch Training Run', placeHolder: profiles.length ? 'Pick a profile' : 'No launchable profile' });
  if (!picked) return undefined;
  if (picked.problem) {
    await openProblem(container.workspace, picked.problem);
    return undefined;
  }
  if (picked.pick === 'create') {
    await vscode.commands.executeCommand(COMMANDS.openProfiles);
    return undefined;
  }
  if (picked.pick === 'file') {
    if (!pythonFile) throw new UserError('No Python file is open');
    if (pythonFile.isDirty && !(await pythonFile.save())) return undefined;
    return { file: pythonFile.uri.fsPath };
  }
  const profile = picked.profile!;
  const params = await promptParams(profile);
  return params && { profile: profile.name, params };
}
