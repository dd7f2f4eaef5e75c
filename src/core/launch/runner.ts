import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import { UserError } from '../errors.ts';
import { defaultRunDir } from '../workspace.ts';

export interface LaunchSpec {
  /** The database file; also handed to the child as RUNBOARD_DB. */
  dbPath: string;
  command: string[];
  cwd: string;
  experiment?: string;
  name?: string;
  env?: Record<string, string>;
  params?: Record<string, string | number | boolean>;
  profile?: string;
  parentId?: number;
  runDir?: string;
}

export interface RunOutput {
  stdout?(chunk: Buffer): void;
  stderr?(chunk: Buffer): void;
}

export interface RunHandle {
  readonly run: Run;
  /** Settles with the final run record; never rejects for failures of the training process. */
  readonly done: Promise<Run>;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns a training command (argv, never a shell) as a recorded run. */
export function launch(store: Store, spec: LaunchSpec, output: RunOutput = {}): RunHandle {
  if (spec.command.length === 0) throw new UserError('Nothing to run: give a command after --');
  const run = store.createRun({
    experiment: spec.experiment,
    name: spec.name,
    command: spec.command,
    cwd: spec.cwd,
    profile: spec.profile,
    parentId: spec.parentId,
    params: spec.params,
  });
  const runDir = spec.runDir ?? defaultRunDir(spec.dbPath, run.id);
  mkdirSync(runDir, { recursive: true });
  store.setRunDir(run.id, runDir);

  const child = spawn(spec.command[0]!, spec.command.slice(1), {
    cwd: spec.cwd,
    env: {
      ...process.env,
      ...spec.env,
      RUNBOARD_RUN_ID: String(run.id),
      RUNBOARD_RUN_DIR: runDir,
      RUNBOARD_DB: spec.dbPath,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() reaches the children a training script starts.
    detached: true,
  });
  let stopRequested: string | null = null;
  const logs: WriteStream[] = [];
  const pipe = (stream: NodeJS.ReadableStream, file: string, forward?: (chunk: Buffer) => void) => {
    const log = createWriteStream(join(runDir, file));
    logs.push(log);
    stream.on('data', (chunk: Buffer) => {
      log.write(chunk);
      forward?.(chunk);
    });
  };
  pipe(child.stdout, 'stdout.log', output.stdout);
  pipe(child.stderr, 'stderr.log', output.stderr);

  const done = new Promise<Run>((resolve) => {
    let spawnError: Error | undefined;
    child.once('spawn', () => store.markStarted(run.id, child.pid ?? null));
    child.once('error', (err) => (spawnError = err));
    child.once('close', async (code, signal) => {
      await Promise.all(logs.map((log) => (log.end(), once(log, 'close'))));
      if (spawnError) {
        const notFound = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        store.markEnded(run.id, {
          status: 'failed',
          error: notFound
            ? `Command not found: ${spec.command[0]}. Check the interpreter or the profile's command.`
            : spawnError.message,
        });
      } else if (signal || stopRequested) {
        store.markEnded(run.id, { status: 'killed', exitCode: code, signal: signal ?? stopRequested });
      } else {
        store.markEnded(run.id, { status: code === 0 ? 'finished' : 'failed', exitCode: code });
      }
      resolve(store.run(run.id)!);
    });
  });

  return {
    run: store.run(run.id)!,
    done,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      stopRequested = 'SIGTERM';
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        stopRequested = 'SIGKILL';
        signalGroup(child.pid!, 'SIGKILL');
      }, graceMs);
      await done;
      clearTimeout(timer);
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
