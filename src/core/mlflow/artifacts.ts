import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, createWriteStream, fstatSync, lstatSync, openSync, readdirSync, renameSync, rmSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hashModel } from '../registry/registry.ts';
import { ensureRealDir, isInside, realDirExists } from '../io/safePaths.ts';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import { artifactKind } from '../tracking/runFolder.ts';
import { dataDirOf, defaultRunDir, makeRunDir, workspaceOf } from '../workspace.ts';
import { mlflowExperimentId, runArtifactUri, runOf } from './ids.ts';
import { writableRun } from './readOnly.ts';
import { API, ARTIFACTS_API, MlflowError, optionalString, requiredString, runIdField, type MlflowContext, type MlflowReply, type MlflowRequest, type MlflowRoute } from './routes.ts';

/**
 * The largest artifact one PUT may write: 16 GiB. Uploads stream to disk (never held in memory),
 * so the limit only keeps a runaway client from filling the disk; it is above the largest single
 * files ML frameworks write by default (Hugging Face shards checkpoints at 5 GB, and MLflow's
 * client sends each file in one PUT).
 */
export const MAX_ARTIFACT_BYTES = 16 * 1024 ** 3;

/** Where MLflow's artifacts live in a run's folder: `<run folder>/artifacts/…`, beside Runboard's logs. */
export const RUN_ARTIFACTS_FOLDER = 'artifacts';

/** The read-only root under which registered versions are downloaded: `mlflow-artifacts:/models/<name>/<version>/…`. */
export const REGISTRY_ARTIFACTS_ROOT = 'models';

const INVALID_PATH = (): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid path');

/**
 * An artifact path as MLflow's `validate_path_is_safe` checks it: percent-decoded until it stops
 * changing (so `%252e%252e` is `..` too), then refused with "Invalid path" if it holds `..`, a
 * backslash, NUL or `#`, or is absolute (posix or Windows).
 */
export function safeArtifactPath(raw: string): string {
  let path = raw;
  for (let i = 0; ; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // A lone "%" (a file named 100%.txt) is text, as Python's unquote leaves it.
      break;
    }
    if (decoded === path) break;
    if (i === 10) throw INVALID_PATH();
    path = decoded;
  }
  const parts = path.split('/');
  if (/[\\\0#]/.test(path) || parts.includes('..') || path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw INVALID_PATH();
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}

/** A place an artifact path names: a folder `root` that must not be left, and a path below it. */
export interface Location {
  /** Absolute; every folder from here down is checked for links. */
  root: string;
  /** Posix, relative to root ('' for root itself). */
  rel: string;
  /** Set for a run's artifacts (writable, recorded); absent for a registered version (read-only). */
  run?: Run;
}

/** `<experiment>/<run>/artifacts/…` or `models/<name>/<version>/…` (a checked path), looked up in the store. */
export function locate(store: Store, path: string): Location {
  const parts = path === '' ? [] : path.split('/');
  if (parts[0] === REGISTRY_ARTIFACTS_ROOT) return locateVersion(store, parts);
  const [experimentId, runId, folder, ...rest] = parts;
  if (experimentId === undefined || runId === undefined || folder !== RUN_ARTIFACTS_FOLDER) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Runboard keeps MLflow artifacts per run: the path must be <experiment id>/<run id>/${RUN_ARTIFACTS_FOLDER}/…, not "${path}"`);
  }
  const run = runOf(store, runId);
  if (mlflowExperimentId({ id: run.experimentId, name: run.experiment }) !== experimentId) {
    throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} is not in experiment ${experimentId}`);
  }
  const data = dataDirOf(workspaceOf(store.file));
  // Under .runboard no folder on the way may be a link (a cloned repository could ship one); a
  // folder a profile names elsewhere is the user's own choice.
  if (run.runDir && isInside(data, run.runDir)) realDirExists(data, run.runDir);
  return { root: run.runDir ?? defaultRunDir(store.file, run.id), rel: [RUN_ARTIFACTS_FOLDER, ...rest].join('/'), run };
}

function locateVersion(store: Store, parts: string[]): Location {
  const [, name, version, ...rest] = parts;
  const found = name !== undefined && version !== undefined && /^\d+$/.test(version) ? store.models.get(name, Number(version)) : undefined;
  if (!found) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No registered model version ${parts.slice(1, 3).join('/')}`);
  const data = dataDirOf(workspaceOf(store.file));
  const root = join(data, REGISTRY_ARTIFACTS_ROOT, name!, version!);
  realDirExists(data, root);
  return { root, rel: rest.join('/') };
}

/** Whether every folder from the root down to the location's parent is real (no links); false when one is missing. */
function realParents(at: Location): boolean {
  return !at.rel.includes('/') || realDirExists(at.root, dirname(join(at.root, at.rel)));
}

const lstatOrUndefined = (path: string): Stats | undefined => {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
};

const linkRefused = (rel: string): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', `Invalid path: ${rel} is a symbolic link, and Runboard serves only the files a run's folder holds`);

/** A name an upload under way writes to before it is renamed into place; never listed. */
const UPLOAD_TEMP = /^\..+\.upload-[0-9a-f]{8}$/;

/** The reply to a PUT: the body streamed to a temporary file beside the target, hashed on the way, renamed when complete, then recorded. */
async function upload(store: Store, path: string, stream: IncomingMessage, limit: number): Promise<MlflowReply> {
  const at = locate(store, path);
  const run = at.run;
  if (!run) throw new MlflowError('INVALID_PARAMETER_VALUE', `Registered model versions are read-only: ${path}`);
  writableRun(store, run);
  if (at.rel === RUN_ARTIFACTS_FOLDER) throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid path: name the file to write');
  if (Number(stream.headers['content-length'] ?? 0) > limit) throw tooLarge(limit);
  if (!run.runDir) {
    makeRunDir(store.file, at.root);
    store.setRunDir(run.id, at.root);
  }
  const file = join(at.root, at.rel);
  ensureRealDir(at.root, dirname(file));
  if (lstatOrUndefined(file)?.isDirectory()) throw new MlflowError('INVALID_PARAMETER_VALUE', `Invalid path: ${at.rel} is a folder`);
  const temp = join(dirname(file), `.${basename(file)}.upload-${randomBytes(4).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limit) return done(tooLarge(limit));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    // A rename replaces the name itself, so a link put there meanwhile is replaced, never followed.
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  store.addArtifact(run.id, { path: at.rel, size, sha256: hash.digest('hex'), kind: artifactKind(at.rel) });
  return { json: {} };
}

const tooLarge = (limit: number): MlflowError =>
  new MlflowError('INVALID_PARAMETER_VALUE', `An artifact may be at most ${limit} bytes (${(limit / 1024 ** 3).toFixed(0)} GiB) in Runboard; split it into several files.`, 413);

const MIME_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.json': 'application/json',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.csv': 'text/csv',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};

/** The file's bytes, opened without following a link, as an attachment (as MLflow sends it, so a browser never renders it). */
function download(store: Store, path: string): MlflowReply {
  const at = locate(store, path);
  const missing = () => new MlflowError('RESOURCE_DOES_NOT_EXIST', `No artifact at ${path}`);
  if (!realParents(at)) throw missing();
  let fd: number;
  try {
    fd = openSync(join(at.root, at.rel), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw linkRefused(at.rel);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw missing();
    throw err;
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw missing();
  }
  const name = basename(at.rel);
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.')).toLowerCase() : '';
  return {
    body: createReadStream('', { fd }),
    contentType: MIME_TYPES[extension] ?? 'application/octet-stream',
    headers: { 'Content-Length': String(stat.size), 'Content-Disposition': `attachment; filename=${name}`, 'X-Content-Type-Options': 'nosniff' },
  };
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** A folder's entries as MLflow lists them, sorted; links and uploads under way are left out; a missing folder or a file lists nothing. */
function listFolder(at: Location, pathOf: (name: string) => string): FileInfo[] {
  const dir = join(at.root, at.rel);
  if (!realParents(at)) return [];
  const stat = lstatOrUndefined(dir);
  if (stat?.isSymbolicLink()) throw linkRefused(at.rel);
  if (!stat?.isDirectory()) return [];
  const files: FileInfo[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (UPLOAD_TEMP.test(entry.name)) continue;
    if (entry.isDirectory()) files.push({ path: pathOf(entry.name), is_dir: true });
    else if (entry.isFile()) files.push({ path: pathOf(entry.name), is_dir: false, file_size: lstatSync(join(dir, entry.name)).size });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** MLflow leaves an empty list out of its JSON, as protobuf does. */
const filesReply = (files: FileInfo[], extra: Record<string, unknown> = {}): MlflowReply => ({ json: { ...extra, ...(files.length ? { files } : {}) } });

const ARTIFACT_PREFIX = `${ARTIFACTS_API}/artifacts/`;
const artifactPathOf = (request: MlflowRequest): string => safeArtifactPath(request.path.slice(ARTIFACT_PREFIX.length));

/** The artifact endpoints, with uploads bounded by `maxBytes` (tests pass a small one). */
export function makeArtifactRoutes(maxBytes = MAX_ARTIFACT_BYTES): MlflowRoute[] {
  return [
    { method: 'PUT', path: ARTIFACT_PREFIX, prefix: true, stream: true, handle: (request, { store }) => upload(store, artifactPathOf(request), request.stream!, maxBytes) },
    { method: 'GET', path: ARTIFACT_PREFIX, prefix: true, handle: (request, { store }) => download(store, artifactPathOf(request)) },
    {
      method: 'GET',
      path: `${ARTIFACTS_API}/artifacts`,
      handle: (request, { store }) => filesReply(listFolder(locate(store, safeArtifactPath(optionalString(request, 'path') ?? '')), (name) => name)),
    },
    // The tracking API's listing, with paths relative to the run's artifact root.
    { method: 'GET', path: `${API}/artifacts/list`, handle: listRunArtifacts },
    { method: 'POST', path: `${API}/runs/log-model`, handle: logModel },
  ];
}

export const artifactRoutes: readonly MlflowRoute[] = makeArtifactRoutes();

function listRunArtifacts(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const run = runOf(store, runIdField(request));
  const rel = safeArtifactPath(optionalString(request, 'path') ?? '');
  const at = runArtifactFolder(store, run, rel);
  return filesReply(listFolder(at, (name) => (rel ? `${rel}/${name}` : name)), { root_uri: runArtifactUri(run) });
}

/** Where a run's MLflow artifact path (relative to its artifact root) lies in its folder. */
export function runArtifactFolder(store: Store, run: Run, artifactPath: string): Location {
  const rel = safeArtifactPath(artifactPath);
  return locate(store, `${mlflowExperimentId({ id: run.experimentId, name: run.experiment })}/${run.mlflowId}/${RUN_ARTIFACTS_FOLDER}${rel ? `/${rel}` : ''}`);
}

/** The tag where MLflow keeps the JSON list of models a run logged (mlflow/utils/mlflow_tags.py). */
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';

/** A run an MLflow client may still log to: not deleted, as MLflow's `_check_run_is_active` words it. */
export function activeRun(run: Run): Run {
  if (run.deletedAt !== null) throw new MlflowError('INVALID_PARAMETER_VALUE', `The run ${run.mlflowId} must be in the 'active' state. Current state is deleted.`);
  return run;
}

/**
 * `runs/log-model`, sent after the model folder's files were uploaded: appends the model to the
 * run's `mlflow.log-model.history` tag (as MLflow does) and records the folder as one artifact of
 * kind model (sha256 of its manifest, see modelTree.ts), so the run's tree offers it to register.
 */
function logModel(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const run = writableRun(store, activeRun(runOf(store, requiredString(request, 'run_id'))));
  const text = requiredString(request, 'model_json');
  let model: unknown;
  try {
    model = JSON.parse(text);
  } catch {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Malformed model info. \n ${text} \n is not a valid JSON.`);
  }
  if (model === null || typeof model !== 'object' || Array.isArray(model)) throw new MlflowError('INVALID_PARAMETER_VALUE', `Malformed model info. \n ${text} \n is not a valid JSON.`);
  const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter((key) => !(key in model));
  if (missing.length) throw new MlflowError('INVALID_PARAMETER_VALUE', `Model json is missing mandatory fields: {${missing.map((k) => `'${k}'`).join(', ')}}`);
  const artifactPath = (model as { artifact_path: unknown }).artifact_path;
  const folder = typeof artifactPath === 'string' && artifactPath !== '' ? modelFolder(store, run, artifactPath) : undefined;
  store.transaction(() => {
    const previous = store.tags(run.id)[LOGGED_MODELS_TAG];
    let history: unknown[] = [];
    try {
      const parsed: unknown = previous === undefined ? [] : JSON.parse(previous);
      if (Array.isArray(parsed)) history = parsed;
    } catch {
      // A tag someone else wrote that is not a list: it is replaced, as a fresh history.
    }
    store.setTags(run.id, { [LOGGED_MODELS_TAG]: JSON.stringify([...history, model]) });
    if (folder) store.addArtifact(run.id, { ...folder, kind: 'model' });
  });
  return { json: {} };
}

/** The uploaded model folder hashed whole, or undefined when it was not uploaded (a model logged elsewhere). */
function modelFolder(store: Store, run: Run, artifactPath: string): { path: string; size: number; sha256: string } | undefined {
  const at = runArtifactFolder(store, run, artifactPath);
  if (!realParents(at)) return undefined;
  const stat = lstatOrUndefined(join(at.root, at.rel));
  if (stat?.isSymbolicLink()) throw linkRefused(at.rel);
  if (!stat?.isDirectory()) return undefined;
  const { sha256, size } = hashModel(join(at.root, at.rel));
  return { path: at.rel, size, sha256 };
}
