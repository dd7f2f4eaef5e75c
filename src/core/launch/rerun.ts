import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import type { MlflowLaunches } from '../mlflow/launchEnv.ts';
import type { Store } from '../store/store.ts';
import type { CodeState, Run } from '../store/types.ts';
import { SWEEP_TAG } from './lifecycle.ts';
import { expandProfile, findProfile, resolveParams } from './profiles.ts';
import { launch, type LaunchSpec, type RunHandle, type RunOutput } from './runner.ts';
import { captureCodeState } from './snapshot.ts';

/** How the code in `current` differs from what a run recorded; null when it is the same (or nothing was recorded). */
export function codeDifference(recorded: CodeState | undefined, current: CodeState): string | null {
  if (!recorded || recorded.commit === null) return null;
  const differences: string[] = [];
  if (recorded.commit !== current.commit) differences.push(`commit ${short(recorded.commit)} → ${short(current.commit)}`);
  if ((recorded.patch ?? '') !== (current.patch ?? '')) {
    differences.push(recorded.patchTruncated ? 'uncommitted changes differ (the recorded patch was truncated)' : 'uncommitted changes differ');
  }
  return differences.length ? differences.join('; ') : null;
}

const short = (commit: string | null): string => (commit ? commit.slice(0, 10) : 'no commit');

/**
 * Starts a run again with the same command, cwd, params, profile, experiment and inputs, and
 * records a `rerun` lineage edge from the original (not a parent: that is for sweeps). When the
 * code differs from what the original recorded, a warning says how; the new run records the code
 * as it is now.
 */
export async function rerun(store: Store, originalId: number, options: { dbPath: string; workspace: string; name?: string; mlflow?: MlflowLaunches }, output: RunOutput = {}): Promise<RunHandle> {
  const original = store.run(originalId);
  if (!original) throw new UserError(`No run ${originalId}`);
  if (store.tags(original.id)[SWEEP_TAG] !== undefined) {
    throw new UserError(`Run ${original.id} is a sweep: re-run one of its runs, or start the sweep again with runboard sweep`);
  }
  if (original.command.length === 0) throw new UserError(`Run ${original.id} has no recorded command (it was not launched by Runboard)`);
  const cwd = original.cwd ?? options.workspace;
  const difference = codeDifference(store.codeState(original.id), await captureCodeState(cwd));
  if (difference) output.warning?.(`the code differs from run ${original.id}'s: ${difference}. This run records the current code.`);

  const spec: LaunchSpec = {
    dbPath: options.dbPath,
    command: original.command,
    cwd,
    params: store.params(original.id),
    profile: original.profile ?? undefined,
    experiment: original.experiment,
    name: options.name,
    inputs: store.inputs(original.id).map((input) => resolve(options.workspace, input.path)),
    workspace: options.workspace,
    mlflow: options.mlflow,
    ...profileSettings(original, store, options.workspace, output),
  };
  const handle = launch(store, spec, output);
  store.addEdge({ srcKind: 'run', srcId: original.id, dstKind: 'run', dstId: handle.run.id, relation: 'rerun' });
  return handle;
}

/** What a profile adds beyond the command (env, output folder, metric regex), if the profile is still there and still fits. */
function profileSettings(original: Run, store: Store, workspace: string, output: RunOutput): Partial<LaunchSpec> {
  if (!original.profile) return {};
  try {
    const profile = findProfile(workspace, original.profile);
    if (!profile) {
      output.warning?.(`profile "${original.profile}" no longer exists: re-running the recorded command without its env`);
      return {};
    }
    // Only the declared params: a script may have logged more of its own.
    const recorded = store.params(original.id);
    const declared = Object.fromEntries(profile.params.filter((p) => p.name in recorded).map((p) => [p.name, recorded[p.name]!]));
    const expanded = expandProfile(profile, resolveParams(profile, declared), { workspace });
    return {
      env: expanded.env,
      runDir: expanded.outputs,
      regex: profile.regex,
      readers: profile.readers,
      params: expanded.params,
      ...(profile.mlflow === false ? { mlflow: undefined } : {}),
    };
  } catch (err) {
    output.warning?.(`profile "${original.profile}" no longer fits run ${original.id} (${(err as Error).message}): re-running the recorded command without its env`);
    return {};
  }
}
