import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { getProfile, type ParamValue, type Profile, type ProfileProblem } from '../../core/launch/profiles.ts';
import { planSweep, startSweep } from '../../core/launch/sweep.ts';
import type { Run } from '../../core/store/types.ts';
import { chooseInterpreter } from '../python.ts';
import { settings } from '../settings.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';
import { launchSweepTracked } from './shared/launching.ts';
import { openProblem, paramProblem, problemItem, profileItem, profilesOf } from './shared/prompts.ts';

export interface LaunchSweepOptions {
  profile?: string;
  /** Values per param; given, it replaces the profile's `sweep` block. */
  grid?: Record<string, ParamValue[]>;
  /** Random search: this many points. */
  random?: number;
  seed?: number;
  /** Runs at once; default `runboard.sweep.parallel`, else the profile's, else 1. */
  parallel?: number;
  /** Fixed values for params not swept. */
  params?: Record<string, ParamValue>;
  experiment?: string;
  name?: string;
  wait?: boolean;
  terminal?: boolean;
}

export interface LaunchSweepResult {
  runId: number;
  childIds: number[];
  run: Run;
}

/** Above this many runs the interactive path asks before starting. */
const CONFIRM_ABOVE = 50;

/** Launch Sweep…: a grid or random search over a profile's params, K runs at a time. */
export const launchSweepCommand: CommandSpec = {
  id: COMMANDS.launchSweep,
  async run(container, _views, ...args): Promise<LaunchSweepResult | undefined> {
    container.trust.require('launch a sweep');
    container.requireWorkspace();
    const options = optionsOf<LaunchSweepOptions>(args);
    const interactive = options.profile === undefined;
    const request = interactive ? await promptSweep(container) : { ...options, profile: options.profile! };
    if (!request) return undefined;

    const store = await container.store();
    const interpreter = await chooseInterpreter(vscode.Uri.file(container.workspace), container.log);
    const parallel = request.parallel ?? (settings.sweepParallel() || undefined);
    const sweep = launchSweepTracked(
      container,
      (output) =>
        startSweep(
          store,
          {
            dbPath: container.dbPath,
            workspace: container.workspace,
            profile: request.profile,
            grid: request.grid,
            random: request.random,
            seed: request.seed,
            parallel,
            params: request.params,
            experiment: request.experiment,
            name: request.name,
            interpreter: interpreter.path,
            mlflow: container.mlflow.forLaunches(),
          },
          output,
        ),
      { terminal: options.terminal, interactive },
    );
    if (interactive) {
      void vscode.window.showInformationMessage(`Runboard: sweep ${sweep.parent.name} started with ${sweep.children.length} runs.`);
    }
    const run = options.wait ? await sweep.done : (store.run(sweep.parent.id) ?? sweep.parent);
    return { runId: run.id, childIds: sweep.children.map((c) => c.id), run };
  },
};

type SweepRequest = LaunchSweepOptions & { profile: string };

async function promptSweep(container: Container): Promise<SweepRequest | undefined> {
  const { profiles: all, problems } = profilesOf(container.workspace);
  const profiles = all.filter((p) => p.params.length > 0);
  if (profiles.length === 0 && problems.length === 0) throw new UserError('No profile with params to sweep: add "params" (and optionally a "sweep" block) to a profile in .runboard/profiles.json');
  const picked = await vscode.window.showQuickPick<vscode.QuickPickItem & { profile?: Profile; problem?: ProfileProblem }>(
    [...profiles.map((p) => ({ ...profileItem(p), description: p.sweep ? describeSweep(p) : 'no sweep block: define a grid' })), ...problems.map(problemItem)],
    { title: 'Launch Sweep', placeHolder: 'Pick a profile' },
  );
  if (!picked) return undefined;
  if (!picked.profile) {
    await openProblem(container.workspace, picked.problem!);
    return undefined;
  }
  const profile = getProfile(container.workspace, picked.profile.name);
  let grid: Record<string, ParamValue[]> | undefined;
  if (profile.sweep) {
    const how = await vscode.window.showQuickPick(
      [
        { label: "$(run-all) Use the profile's sweep", detail: describeSweep(profile), custom: false },
        { label: '$(edit) Define a grid…', detail: 'Pick params and their values', custom: true },
      ],
      { title: `Sweep ${profile.name}` },
    );
    if (!how) return undefined;
    if (how.custom) grid = await promptGrid(profile);
    if (how.custom && !grid) return undefined;
  } else {
    grid = await promptGrid(profile);
    if (!grid) return undefined;
  }
  const count = planSweep(profile, { grid }).points.length;
  if (count > CONFIRM_ABOVE) {
    const go = await vscode.window.showWarningMessage(`This sweep starts ${count} runs. Launch it?`, { modal: true }, 'Launch');
    if (go !== 'Launch') return undefined;
  }
  return { profile: profile.name, grid };
}

function describeSweep(profile: Profile): string {
  try {
    const plan = planSweep(profile);
    const grid = Object.keys(profile.sweep?.grid ?? {});
    const random = Object.keys(profile.sweep?.random?.params ?? {});
    return `${plan.points.length} runs${grid.length ? ` · grid ${grid.join('×')}` : ''}${random.length ? ` · random ${random.join(', ')}` : ''} · ${plan.parallel} at a time`;
  } catch (err) {
    return (err as Error).message;
  }
}

async function promptGrid(profile: Profile): Promise<Record<string, ParamValue[]> | undefined> {
  const chosen = await vscode.window.showQuickPick(
    profile.params.map((p) => ({ label: p.name, description: `${p.type}${p.default !== undefined ? ` · default ${String(p.default)}` : ''}`, picked: false, spec: p })),
    { title: `Sweep ${profile.name}: params to vary`, canPickMany: true },
  );
  if (!chosen || chosen.length === 0) return undefined;
  const grid: Record<string, ParamValue[]> = {};
  for (const { spec } of chosen) {
    const suggestion = spec.type === 'choice' ? spec.choices!.map(String).join(', ') : spec.type === 'bool' ? 'true, false' : spec.default !== undefined ? String(spec.default) : '';
    const text = await vscode.window.showInputBox({
      title: `Sweep ${profile.name}: values of ${spec.name}`,
      prompt: 'Comma-separated values',
      value: suggestion,
      ignoreFocusOut: true,
      validateInput: (input) => {
        const values = input.split(',').map((v) => v.trim());
        if (values.some((v) => v === '')) return 'Give one or more values separated by commas';
        for (const value of values) {
          const problem = paramProblem(profile, spec.name, value);
          if (problem) return problem;
        }
        return undefined;
      },
    });
    if (text === undefined) return undefined;
    grid[spec.name] = text.split(',').map((v) => v.trim());
  }
  return grid;
}
