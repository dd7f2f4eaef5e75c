import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, delimiter, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Store } from '../store/store.ts';
import type { Run, RunStatus } from '../store/types.ts';
import { UserError } from '../errors.ts';
import { mlflowExperimentId } from '../mlflow/ids.ts';
import { mlflowRunEnv, OTHER_SERVER_AUTH, type MlflowLaunches } from '../mlflow/launchEnv.ts';
import { pythonDir } from '../paths.ts';
import { RunCapture } from '../tracking/capture.ts';
import { compileRegex, type ReaderSwitches } from '../tracking/lineParser.ts';
import { defaultRunDir, makeRunDir, workspaceOf } from '../workspace.ts';
import { claimRun, endActiveChildren, endRun, LAUNCHER_TAG, requestStop, setRunPid } from './lifecycle.ts';
import { signalGroup } from './process.ts';
import { expandProfile, getProfile, outputsFor, resolveParams, type ParamValue, type Profile } from './profiles.ts';
import { captureCodeState, fingerprintInput, pythonEnvironment, systemEnvironment, type PythonEnvironment } from './snapshot.ts';

export interface LaunchSpec {
  /** The database file; also handed to the child as RUNBOARD_DB. */
  dbPath: string;
  command: string[];
  cwd: string;
  experiment?: string;
  name?: string;
  env?: Record<string, string>;
  params?: Record<string, ParamValue>;
  profile?: string;
  parentId?: number;
  /** Output folder; `${runId}` in it becomes the run's id. Default `.runboard/runs/<id>/`. */
  runDir?: string;
  /** The Python whose version and packages are recorded; default the command's own python, if it is one. */
  interpreter?: string;
  /** Files or folders fingerprinted before the start (relative to `cwd`); a missing one is a UserError. */
  inputs?: string[];
  /** Metric-line pattern for capture. */
  regex?: string;
  /** Capture's built-in line readers switched off. */
  readers?: ReaderSwitches;
  /** Start this queued run (see queueRun) instead of creating one. */
  runId?: number;
  /** Folder that recorded input paths are relative to; default the database's workspace. */
  workspace?: string;
  /** A probe shared by many runs of one interpreter (a sweep), so it runs once. */
  pythonProbe?: Promise<PythonEnvironment | undefined>;
  /**
   * The MLflow server of this process: the run gets MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN,
   * MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_ID, so `mlflow.start_run()` resumes it. Without it (the
   * opt-out) the user's own MLFLOW_* variables pass through untouched.
   */
  mlflow?: MlflowLaunches;
}

export interface RunOutput {
  stdout?(chunk: Buffer): void;
  stderr?(chunk: Buffer): void;
  /** A problem that does not stop the run (a snapshot step that failed), one line. */
  warning?(text: string): void;
}

export interface RunHandle {
  readonly run: Run;
  /** Settles with the final run record; never rejects for failures of the training process. */
  readonly done: Promise<Run>;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs` (default 10 s); called again with 0, SIGKILL at once. */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_GRACE_MS = 10_000;
/** How long output may still arrive after the process exited (from children it left running). */
const PIPE_DRAIN_MS = 3_000;

/** Checks what can be checked before anything is recorded, so a typo never leaves a run behind. */
function validate(spec: LaunchSpec): string[] {
  if (spec.command.length === 0 || !spec.command[0]) throw new UserError('Nothing to run: give a command after --');
  let cwdInfo;
  try {
    cwdInfo = statSync(spec.cwd);
  } catch {
    throw new UserError(`Working directory not found: ${spec.cwd}`);
  }
  if (!cwdInfo.isDirectory()) throw new UserError(`Working directory is not a folder: ${spec.cwd}`);
  if (spec.regex !== undefined) compileRegex(spec.regex);
  return (spec.inputs ?? []).map((input) => {
    const absolute = resolve(spec.cwd, input);
    if (!existsSync(absolute)) throw new UserError(`Input not found: ${input} (looked for ${absolute})`);
    return absolute;
  });
}

/** Records a run as queued, to be started later with `launch({ ...spec, runId })` (sweeps queue every child up front). */
export function queueRun(store: Store, spec: LaunchSpec): Run {
  validate(spec);
  const run = store.createRun({
    experiment: spec.experiment,
    name: spec.name,
    status: 'queued',
    command: spec.command,
    cwd: spec.cwd,
    profile: spec.profile,
    parentId: spec.parentId,
    params: spec.params,
  });
  // Lets crash reconciliation tell a run whose launcher died from one still being looked after.
  store.setTags(run.id, { [LAUNCHER_TAG]: process.pid });
  return store.run(run.id)!;
}

/**
 * Spawns a training command (argv, never a shell) as a recorded run: snapshot of code and inputs
 * first, then the process in its own group with RUNBOARD_* variables, its output captured, and
 * the outcome recorded unless a stop or a crash check recorded it first.
 */
export function launch(store: Store, spec: LaunchSpec, output: RunOutput = {}): RunHandle {
  const inputs = validate(spec);
  let run: Run;
  if (spec.runId === undefined) {
    run = queueRun(store, spec);
  } else {
    const queued = store.run(spec.runId);
    if (!queued || queued.status !== 'queued') throw new UserError(`Run ${spec.runId} is not queued${queued ? ` (it is ${queued.status})` : ''}`);
    store.setTags(queued.id, { [LAUNCHER_TAG]: process.pid });
    run = queued;
  }
  const runId = run.id;
  const runDir = spec.runDir ? outputsFor(resolve(spec.cwd, spec.runDir), runId) : defaultRunDir(spec.dbPath, runId);
  makeRunDir(spec.dbPath, runDir);
  store.setRunDir(runId, runDir);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Python buffers a pipe's output; unbuffered, metric lines arrive while the run is live.
    PYTHONUNBUFFERED: '1',
    ...spec.env,
    RUNBOARD_RUN_ID: String(runId),
    RUNBOARD_RUN_DIR: runDir,
    RUNBOARD_DB: spec.dbPath,
  };
  const userPythonPath = spec.env?.PYTHONPATH ?? process.env.PYTHONPATH;
  env.PYTHONPATH = userPythonPath ? `${pythonDir()}${delimiter}${userPythonPath}` : pythonDir();

  const interpreter = spec.interpreter ?? (/^python[\d.]*(\.exe)?$/i.test(basename(spec.command[0]!)) ? spec.command[0] : undefined);
  const probe = spec.pythonProbe ?? (interpreter ? pythonEnvironment(interpreter, env) : Promise.resolve(undefined));
  const problems: string[] = [];
  const warn = (text: string) => {
    problems.push(text);
    output.warning?.(text);
  };

  let stopSignal: NodeJS.Signals | null = null;
  let childPid: number | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let graceMs = DEFAULT_GRACE_MS;
  // Once the process is reaped its pid may be reused: never signal it again.
  let exited = false;
  const terminate = (pid: number, signal: NodeJS.Signals) => {
    if (exited) return;
    signalGroup(pid, signal);
    if (signal !== 'SIGTERM' || killTimer) return;
    killTimer = setTimeout(() => {
      if (exited) return;
      stopSignal = 'SIGKILL';
      requestStop(store, runId, 'SIGKILL');
      signalGroup(pid, 'SIGKILL');
    }, graceMs);
  };

  const done = (async (): Promise<Run> => {
    await snapshot(store, runId, spec, inputs, warn);
    store.setEnvironment(runId, { ...systemEnvironment(), ...(problems.length ? { snapshotProblems: problems } : {}) });
    await giveMlflowEnv(store, runId, spec.mlflow, env, warn);
    if (stopSignal || !claimRun(store, runId)) {
      endRun(store, runId, { status: 'killed', error: 'Stopped before it started' });
      return store.run(runId)!;
    }
    let outcome: Outcome;
    try {
      outcome = await spawnAndWait(store, runId, spec, env, runDir, output, (pid) => {
        childPid = pid;
        setRunPid(store, runId, pid);
        // A stop asked for while the process was being spawned, here or by another process.
        const asked = stopSignal ?? (store.run(runId)?.signal as NodeJS.Signals | null);
        if (asked) terminate(pid, asked);
      });
    } catch (err) {
      // Capture could not be set up (say, an unwritable output folder): the run must not stay "running".
      endRun(store, runId, { status: 'failed', error: `Runboard could not start the run: ${(err as Error).message}` });
      return store.run(runId)!;
    } finally {
      exited = true;
    }
    clearTimeout(killTimer);
    const python = await probe;
    store.setEnvironment(runId, {
      ...systemEnvironment(),
      ...(python ? { python: { version: python.version, implementation: python.implementation, executable: python.executable }, packages: python.packages } : {}),
      ...(problems.length ? { snapshotProblems: problems } : {}),
    });
    const requested = stopSignal ?? (store.run(runId)?.signal as NodeJS.Signals | null) ?? null;
    endRun(store, runId, outcomeToEnd(outcome, spec.command[0]!, requested));
    if (spec.mlflow) endActiveChildren(store, store.run(runId)!);
    return store.run(runId)!;
  })();

  return {
    run: store.run(runId)!,
    done,
    async stop(grace = DEFAULT_GRACE_MS) {
      if (!stopSignal) {
        stopSignal = 'SIGTERM';
        graceMs = grace;
        requestStop(store, runId, 'SIGTERM');
        if (childPid !== undefined) terminate(childPid, 'SIGTERM');
      } else if (grace === 0 && stopSignal === 'SIGTERM' && childPid !== undefined && !exited) {
        // Asked again without patience (a second Ctrl-C): no more grace.
        stopSignal = 'SIGKILL';
        requestStop(store, runId, 'SIGKILL');
        signalGroup(childPid, 'SIGKILL');
      }
      await done;
    },
  };
}

/**
 * The MLflow variables, pointing at this process's server (started on first need). A server that
 * cannot start is a warning: the run goes on, and MLflow's client logs wherever it would have.
 */
async function giveMlflowEnv(store: Store, runId: number, mlflow: MlflowLaunches | undefined, env: NodeJS.ProcessEnv, warn: (text: string) => void): Promise<void> {
  if (!mlflow) return;
  try {
    const endpoint = await mlflow.endpoint();
    const run = store.run(runId)!;
    Object.assign(env, mlflowRunEnv(endpoint, { mlflowId: run.mlflowId, mlflowExperimentId: mlflowExperimentId({ id: run.experimentId, name: run.experiment }) }));
    for (const name of OTHER_SERVER_AUTH) delete env[name];
  } catch (err) {
    warn(`the MLflow tracking server did not start, so MLflow's client is not pointed at this run: ${(err as Error).message}`);
  }
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: NodeJS.ErrnoException;
  /** Why some output could not be recorded (a full disk): kept on the run, whatever its status. */
  captureError?: string;
}

function outcomeToEnd(outcome: Outcome, program: string, requested: NodeJS.Signals | null): { status: RunStatus; exitCode?: number | null; signal?: string | null; error?: string } {
  if (outcome.spawnError) {
    const code = outcome.spawnError.code;
    const error =
      code === 'ENOENT'
        ? `Command not found: ${program}. Check the interpreter or the profile's command.`
        : code === 'EACCES'
          ? `Cannot run ${program}: permission denied (is it executable?)`
          : `Cannot start ${program}: ${outcome.spawnError.message}`;
    return { status: 'failed', error };
  }
  const error = outcome.captureError === undefined ? undefined : `Recording is incomplete: ${outcome.captureError}`;
  if (outcome.signal || requested) return { status: 'killed', exitCode: outcome.code, signal: outcome.signal ?? requested, error };
  return { status: outcome.code === 0 ? 'finished' : 'failed', exitCode: outcome.code, error };
}

async function snapshot(store: Store, runId: number, spec: LaunchSpec, inputs: string[], warn: (text: string) => void): Promise<void> {
  const workspace = spec.workspace ?? workspaceOf(spec.dbPath);
  await Promise.all([
    captureCodeState(spec.cwd)
      .then((code) => store.setCodeState(runId, code))
      .catch((err: Error) => warn(`could not record the git state: ${err.message}`)),
    ...inputs.map((input) =>
      fingerprintInput(store, input, workspace)
        .then((f) => store.addInput(runId, f))
        .catch((err: Error) => warn(`could not fingerprint input ${input}: ${err.message}`)),
    ),
  ]);
}

/**
 * The training process in its own group, its output captured (logs, metric lines, run-folder
 * files); resolves once it has exited and capture has stored every point.
 */
function spawnAndWait(
  store: Store,
  runId: number,
  spec: LaunchSpec,
  env: NodeJS.ProcessEnv,
  runDir: string,
  output: RunOutput,
  started: (pid: number) => void,
): Promise<Outcome> {
  const capture = new RunCapture(store, { runId, runDir, regex: spec.regex, readers: spec.readers });
  const mlflowKeys = spec.mlflow?.watchRun(runId, (keys, write) => capture.yieldToMlflow(keys, write));
  const closeCapture = () => capture.close().finally(() => mlflowKeys?.dispose());
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(spec.command[0]!, spec.command.slice(1), {
      cwd: spec.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a stop reaches the children a training script starts.
      detached: true,
    });
  } catch (err) {
    // Refused outright (an argument with a NUL byte): no process, so no output to wait for.
    return closeCapture().then(
      () => Promise.reject(err),
      () => Promise.reject(err),
    );
  }
  child.stdout.on('data', (chunk: Buffer) => {
    capture.stdout(chunk);
    output.stdout?.(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    capture.stderr(chunk);
    output.stderr?.(chunk);
  });
  return new Promise((done) => {
    let settled = false;
    const finish = async (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      try {
        await closeCapture();
      } catch (err) {
        output.warning?.(`capture failed: ${(err as Error).message}`);
        outcome = { ...outcome, captureError: (err as Error).message };
      }
      done(outcome);
    };
    child.once('spawn', () => started(child.pid!));
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) void finish({ code: null, signal: null, spawnError: err });
    });
    child.once('close', (code, signal) => void finish({ code, signal }));
    // 'close' waits for the output pipes, which a daemon the script left behind may hold forever.
    child.once('exit', (code, signal) => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        void finish({ code, signal });
      }, PIPE_DRAIN_MS).unref();
    });
  });
}

export interface ProfileLaunch {
  dbPath: string;
  workspace: string;
  /** A profile name from `.runboard/profiles.json`, or a profile already loaded. */
  profile: string | Profile;
  /** Overrides of the profile's defaults, as typed (`"0.1"`) or typed values. */
  params?: Record<string, ParamValue>;
  parentId?: number;
  /** Overrides the profile's interpreter (the extension passes the selected Python). */
  interpreter?: string;
  experiment?: string;
  name?: string;
  /** More inputs to fingerprint besides the profile's, relative to the workspace. */
  inputs?: string[];
  /** See LaunchSpec.mlflow; a profile with `"mlflow": false` does without it. */
  mlflow?: MlflowLaunches;
}

/** The LaunchSpec a profile gives with these params; throws UserError for a bad value. */
export function profileLaunchSpec(options: ProfileLaunch): LaunchSpec {
  const profile = typeof options.profile === 'string' ? getProfile(options.workspace, options.profile) : options.profile;
  const params = resolveParams(profile, options.params);
  const expanded = expandProfile(profile, params, { workspace: options.workspace, interpreter: options.interpreter });
  return {
    dbPath: options.dbPath,
    command: expanded.command,
    cwd: expanded.cwd,
    env: expanded.env,
    params,
    profile: profile.name,
    experiment: options.experiment ?? profile.experiment,
    name: options.name,
    parentId: options.parentId,
    runDir: expanded.outputs,
    interpreter: expanded.interpreter,
    inputs: [...expanded.inputs, ...(options.inputs ?? []).map((input) => resolve(options.workspace, input))],
    regex: profile.regex,
    readers: profile.readers,
    workspace: options.workspace,
    mlflow: profile.mlflow === false ? undefined : options.mlflow,
  };
}

/** Runs a profile from `.runboard/profiles.json` with param overrides. */
export function launchProfile(store: Store, options: ProfileLaunch, output: RunOutput = {}): RunHandle {
  return launch(store, profileLaunchSpec(options), output);
}
