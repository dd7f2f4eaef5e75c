import { existsSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { RUN_STATUSES, type Run, type RunStatus } from '../store/types.ts';
import { RunCapture } from './capture.ts';
import { readRegularText } from '../io/boundedRead.ts';
import { isFileError } from './fileErrors.ts';
import { CLIENT_FILES, LOG_FILES, MAX_WHOLE_FILE_BYTES } from './runFolder.ts';
import { isRecord, parseLenientJson } from './lineParser.ts';

/** The tag naming the folder a run was imported from; a folder is imported once. */
export const IMPORTED_FROM_TAG = 'runboard.importedFrom';

export interface ImportOptions {
  /** Defaults to run.json's `experiment`, then the default experiment. */
  experiment?: string;
}

/**
 * Loads a folder written by the Python client outside a Runboard run (run.json, metrics.jsonl,
 * params.json, tags.json, artifacts) as a new run. It ends finished or failed as run.json says,
 * or crashed when no end was recorded (the process died before its atexit).
 */
export async function importRunDir(store: Store, dir: string, options: ImportOptions = {}): Promise<Run> {
  let source: string;
  try {
    source = realpathSync(dir);
  } catch {
    throw new UserError(`Cannot import ${dir}: no such folder.`);
  }
  const info = await readRunJson(store, source);
  const previous = store.runIdWithTag(IMPORTED_FROM_TAG, source);
  if (previous !== undefined) {
    const run = store.run(previous);
    throw new UserError(`${source} was already imported as run ${run?.name ?? previous} (#${previous}). Delete that run to import it again.`);
  }

  const started = recordedTime(info, 'started', source);
  const ended = recordedTime(info, 'ended', source);
  if (started !== undefined && ended !== undefined && ended < started) {
    throw new UserError(`${join(source, CLIENT_FILES.run)}: "ended" (${ended}) is before "started" (${started}); nothing was imported.`);
  }
  const recorded = typeof info.status === 'string' && (RUN_STATUSES as readonly string[]).includes(info.status) ? (info.status as RunStatus) : undefined;
  const status: RunStatus = ended === undefined ? 'crashed' : recorded === 'failed' || recorded === 'killed' ? recorded : 'finished';

  const run = store.createRun({
    experiment: options.experiment ?? (typeof info.experiment === 'string' ? info.experiment : undefined),
    name: typeof info.name === 'string' && info.name ? info.name : basename(source),
    command: Array.isArray(info.command) ? info.command.map(String) : [],
    cwd: typeof info.cwd === 'string' ? info.cwd : undefined,
    runDir: source,
    status: 'running',
    createdAt: started,
  });
  try {
    store.setTags(run.id, { [IMPORTED_FROM_TAG]: source });
    await new RunCapture(store, { runId: run.id, runDir: source, watch: false }).close();
    store.markEnded(run.id, { status, error: status === 'crashed' ? 'No end recorded in run.json: the process stopped without exiting normally.' : null });
    // The store stamps start and end with the current time; an import keeps the recorded ones.
    store.setRunTimes(run.id, { startedAt: started ?? null, endedAt: ended ?? null });
  } catch (err) {
    store.deleteRun(run.id);
    throw err;
  }
  return store.run(run.id)!;
}

/**
 * Why a folder without run.json cannot be imported. The output folder of a `runboard run` has
 * none: its record is the database of the workspace that ran it (a capture cut short there is
 * resumed by that workspace's next command), and its logs alone do not say how it was run.
 */
function noRunJson(store: Store, dir: string): string {
  const owner = store.runs().find((run) => run.runDir !== null && existsSync(run.runDir) && realpathSync(run.runDir) === dir);
  if (owner) return `${dir} is the output folder of run ${owner.name} (#${owner.id}) of this database: it is recorded already (see runboard show ${owner.id}); nothing was imported.`;
  if (existsSync(join(dir, LOG_FILES.stdout))) {
    return `${dir} has no ${CLIENT_FILES.run}: it is the output folder of a \`runboard run\`, recorded in the database of the workspace that ran it (run runboard there, or pass its --db); nothing was imported.`;
  }
  return `${dir} has no ${CLIENT_FILES.run}: it is not a run folder written by the Runboard Python client.`;
}

async function readRunJson(store: Store, dir: string): Promise<Record<string, unknown>> {
  const file = join(dir, CLIENT_FILES.run);
  let text: string;
  try {
    text = await readRegularText(file, MAX_WHOLE_FILE_BYTES);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (isFileError(err) && err.code !== 'ENOENT') throw new UserError(`${file} could not be read (${err.code}); nothing was imported.`);
    throw new UserError(noRunJson(store, dir));
  }
  const info = parseLenientJson(text);
  if (!isRecord(info)) throw new UserError(`${file} is not a JSON object.`);
  return info;
}

/** The first day a Python client could have written (2000-01-01), in ms since 1970. */
const EARLIEST_TIME = Date.UTC(2000, 0, 1);
/** Clocks of other machines may run somewhat ahead of this one's. */
const CLOCK_SKEW = 24 * 60 * 60 * 1000;

/** A time of run.json in ms since 1970, or undefined when not recorded; one no clock could have written is refused. */
function recordedTime(info: Record<string, unknown>, field: 'started' | 'ended', dir: string): number | undefined {
  const value = info[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && value >= EARLIEST_TIME && value <= Date.now() + CLOCK_SKEW) return value;
  throw new UserError(
    `${join(dir, CLIENT_FILES.run)}: "${field}" is ${JSON.stringify(value)}, not a time in milliseconds since 1970 between 2000 and now; nothing was imported.`,
  );
}
