import * as vscode from 'vscode';
import { UserError } from '../../../core/errors.ts';
import { parseParamValue, profileKeyOffset, profilesPath, readProfiles, type ParamSpec, type ParamValue, type Profile, type ProfileProblem } from '../../../core/launch/profiles.ts';

/** The valid profiles of the workspace, sorted, and what is wrong with the broken ones. */
export function profilesOf(workspace: string): { profiles: Profile[]; problems: ProfileProblem[] } {
  const { profiles, problems } = readProfiles(workspace);
  return { profiles: [...profiles.values()].sort((a, b) => a.name.localeCompare(b.name)), problems };
}

/** A broken profile in a pick: listed with its error, so it is not silently missing; picking it opens the file there. */
export function problemItem(problem: ProfileProblem): vscode.QuickPickItem & { problem: ProfileProblem } {
  return {
    label: `$(error) ${problem.profile ?? 'profiles.json'}`,
    description: 'cannot launch: open profiles.json to fix it',
    detail: problem.message,
    problem,
  };
}

/** Opens profiles.json at the broken profile (or at the top when the file itself is broken). */
export async function openProblem(workspace: string, problem: ProfileProblem): Promise<void> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(profilesPath(workspace)));
  const offset = problem.profile === undefined ? 0 : (profileKeyOffset(document.getText(), problem.profile) ?? 0);
  const position = document.positionAt(offset);
  await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position) });
}

export function profileItem(profile: Profile): vscode.QuickPickItem & { profile: Profile } {
  return {
    label: `$(beaker) ${profile.name}`,
    description: profile.description ?? profile.command.join(' '),
    detail: profile.params.length ? `params: ${profile.params.map((p) => (p.default === undefined ? p.name : `${p.name}=${String(p.default)}`)).join(', ')}` : undefined,
    profile,
  };
}

const typeHint = (spec: ParamSpec): string =>
  spec.type === 'choice' ? `one of ${spec.choices!.map(String).join(', ')}` : spec.type === 'int' ? 'integer' : spec.type === 'bool' ? 'true or false' : spec.type;

/**
 * Values for a profile's params: "Launch with defaults" when every param has one, else (or on
 * "Edit parameters…") one prompt per param, validated as the core validates a launch. Undefined
 * when the user cancels.
 */
export async function promptParams(profile: Profile): Promise<Record<string, ParamValue> | undefined> {
  if (profile.params.length === 0) return {};
  const complete = profile.params.every((p) => p.default !== undefined);
  if (complete) {
    const defaults = profile.params.map((p) => `${p.name}=${String(p.default)}`).join(', ');
    const choice = await vscode.window.showQuickPick(
      [
        { label: '$(play) Launch with defaults', detail: defaults, edit: false },
        { label: '$(edit) Edit parameters…', detail: `${profile.params.length} parameter${profile.params.length === 1 ? '' : 's'}`, edit: true },
      ],
      { title: `Launch ${profile.name}`, placeHolder: 'Parameters' },
    );
    if (!choice) return undefined;
    if (!choice.edit) return {};
  }
  const values: Record<string, ParamValue> = {};
  for (const [i, spec] of profile.params.entries()) {
    const title = `Launch ${profile.name}: ${spec.name} (${i + 1}/${profile.params.length})`;
    const value = await promptParam(profile, spec, title);
    if (value === undefined) return undefined;
    values[spec.name] = value;
  }
  return values;
}

async function promptParam(profile: Profile, spec: ParamSpec, title: string): Promise<ParamValue | undefined> {
  if (spec.type === 'choice' || spec.type === 'bool') {
    const options: ParamValue[] = spec.type === 'bool' ? [true, false] : spec.choices!;
    const picked = await vscode.window.showQuickPick(
      options.map((value) => ({ label: String(value), description: value === spec.default ? 'default' : undefined, value })),
      { title, placeHolder: spec.description ?? typeHint(spec) },
    );
    return picked?.value;
  }
  const text = await vscode.window.showInputBox({
    title,
    prompt: [spec.description, `(${typeHint(spec)})`].filter(Boolean).join(' '),
    value: spec.default === undefined ? '' : String(spec.default),
    ignoreFocusOut: true,
    validateInput: (input) => paramProblem(profile, spec.name, input),
  });
  return text === undefined ? undefined : parseParamValue(profile, spec.name, text, spec.name);
}

/** The core's complaint about a typed value, or undefined when it is fine. */
export function paramProblem(profile: Profile, name: string, text: string): string | undefined {
  try {
    parseParamValue(profile, name, text, name);
    return undefined;
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
}
