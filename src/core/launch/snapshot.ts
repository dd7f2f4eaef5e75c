import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { arch, cpus, hostname, platform, release, totalmem, type } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Stats } from 'node:fs';
import type { Store } from '../store/store.ts';
import type { CodeState } from '../store/types.ts';

/** Upper bound of a recorded patch (tracked diff plus untracked files), so a stray dump cannot bloat the db. */
export const PATCH_LIMIT = 1024 * 1024;
const MAX_UNTRACKED_FILES = 10_000;
const BINARY_SNIFF = 8000;
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export const NO_CODE_STATE: CodeState = { commit: null, branch: null, dirty: false, patch: null, patchTruncated: false };

interface GitResult {
  ok: boolean;
  out: Buffer;
  truncated: boolean;
}

/** Runs git (argv, no shell), keeping at most `limit` bytes of its output. */
function git(args: string[], cwd: string, limit = 64 * 1024): Promise<GitResult> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    // Optional locks off: a snapshot must never block or break the user's own git commands.
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      const room = limit - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size = limit;
        truncated = true;
        child.kill();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.once('error', () => done({ ok: false, out: Buffer.alloc(0), truncated: false }));
    child.once('close', (code) => done({ ok: code === 0 || truncated, out: Buffer.concat(chunks), truncated }));
  });
}

const text = (r: GitResult): string | null => (r.ok ? r.out.toString('utf8').trim() || null : null);

/**
 * The git state of the repository holding `cwd`: commit, branch, dirty flag and the patch of
 * uncommitted work (`git diff HEAD` plus untracked text files as new-file diffs), bounded by
 * `limit`. Outside a repository, or without git, every field is null.
 */
export async function captureCodeState(cwd: string, limit = PATCH_LIMIT): Promise<CodeState> {
  const root = text(await git(['rev-parse', '--show-toplevel'], cwd));
  if (!root) return { ...NO_CODE_STATE };
  const [commit, branch, untrackedList] = await Promise.all([
    git(['rev-parse', '--verify', '-q', 'HEAD'], root).then(text),
    git(['symbolic-ref', '-q', '--short', 'HEAD'], root).then(text),
    git(['ls-files', '--others', '--exclude-standard', '-z'], root, 4 * 1024 * 1024),
  ]);
  // Without a first commit, the work tree is compared with the empty tree.
  const diff = await git(['diff', '--no-color', '--no-ext-diff', commit ?? EMPTY_TREE], root, limit);
  let patch = diff.out.toString('utf8');
  let truncated = diff.truncated;
  if (truncated) patch = patch.slice(0, patch.lastIndexOf('\n') + 1);
  const untracked = untrackedList.ok ? untrackedList.out.toString('utf8').split('\0').filter((f) => f && !isRunboardData(f)) : [];
  if (untrackedList.truncated || untracked.length > MAX_UNTRACKED_FILES) truncated = true;
  let used = Buffer.byteLength(patch);
  for (const file of untracked.slice(0, MAX_UNTRACKED_FILES)) {
    const entry = await newFileDiff(root, file, limit - used);
    if (entry === undefined) {
      truncated = true;
      continue;
    }
    patch += entry;
    used += Buffer.byteLength(entry);
  }
  const dirty = diff.out.length > 0 || untracked.length > 0;
  return { commit, branch, dirty, patch: patch || null, patchTruncated: truncated };
}

/**
 * Runboard's own records (database, run folders, models) are not code: without this, every run
 * would look dirty with the previous runs' logs. Its config files are code.
 */
export function isRunboardData(path: string): boolean {
  const parts = path.split('/');
  const at = parts.lastIndexOf('.runboard');
  return at !== -1 && !(at === parts.length - 2 && RUNBOARD_CONFIG_FILES.has(parts[at + 1]!));
}
const RUNBOARD_CONFIG_FILES = new Set(['profiles.json', 'deploy.json', '.gitignore']);

/** An untracked file as git would show it once added; undefined when it does not fit in `room` bytes. */
async function newFileDiff(root: string, file: string, room: number): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(join(root, file), 'r');
    const info = await handle.stat();
    if (!info.isFile()) return '';
    const mode = info.mode & 0o111 ? '100755' : '100644';
    const header = `diff --git a/${file} b/${file}\nnew file mode ${mode}\n`;
    const sniff = Buffer.alloc(Math.min(BINARY_SNIFF, info.size));
    await handle.read(sniff, 0, sniff.length, 0);
    if (sniff.includes(0)) {
      const entry = `${header}Binary files /dev/null and b/${file} differ\n`;
      return Buffer.byteLength(entry) <= room ? entry : undefined;
    }
    if (info.size + header.length > room) return undefined;
    const content = (await handle.readFile()).toString('utf8');
    if (content.length === 0) return header;
    const lines = content.split('\n');
    const endsWithNewline = lines.at(-1) === '';
    if (endsWithNewline) lines.pop();
    const body = lines.map((l) => `+${l}\n`).join('') + (endsWithNewline ? '' : '\\ No newline at end of file\n');
    const entry = `${header}--- /dev/null\n+++ b/${file}\n@@ -0,0 +1${lines.length === 1 ? '' : `,${lines.length}`} @@\n${body}`;
    return Buffer.byteLength(entry) <= room ? entry : undefined;
  } catch {
    // Deleted or unreadable since git listed it: not part of the code state.
    return '';
  } finally {
    await handle?.close();
  }
}

/** Host facts that cost nothing to collect. */
export function systemEnvironment(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    os: { platform: platform(), type: type(), release: release(), arch: arch() },
    cpu: { model: cpuList[0]?.model ?? null, count: cpuList.length },
    memoryBytes: totalmem(),
    node: process.version,
    hostname: hostname(),
  };
}

const PYTHON_PROBE = `
import json, platform, sys
packages = None
try:
    import importlib.metadata as metadata
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            packages[name] = dist.version
    packages = dict(sorted(packages.items(), key=lambda item: item[0].lower()))
except Exception:
    pass
print(json.dumps({"version": platform.python_version(), "implementation": platform.python_implementation(),
                  "executable": sys.executable, "packages": packages}))
`;

export interface PythonEnvironment {
  version: string;
  implementation: string;
  executable: string;
  packages: Record<string, string> | null;
}

/** Python version and installed packages of an interpreter; undefined when it cannot tell in time. */
export function pythonEnvironment(interpreter: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): Promise<PythonEnvironment | undefined> {
  return new Promise((done) => {
    execFile(interpreter, ['-c', PYTHON_PROBE], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return done(undefined);
      try {
        const info = JSON.parse(stdout) as PythonEnvironment;
        done(typeof info.version === 'string' ? info : undefined);
      } catch {
        done(undefined);
      }
    });
  });
}

export interface InputFingerprint {
  /** As recorded: relative to the workspace when inside it, else absolute. */
  path: string;
  /** sha256 of a file; for a folder, sha256 over its sorted (relative path, size, file sha256) list. */
  fingerprint: string;
  size: number;
  files: number;
  /** Files actually read; the rest came from the fingerprint cache. */
  hashedFiles: number;
}

// A file modified this recently could change again within the same mtime tick without its size
// or mtime changing, so its hash is not cached (the "racy git" problem).
const RACY_MS = 2000;

/**
 * Fingerprints an input file or folder. Per-file hashes are cached in the store by (path, size,
 * mtime), so re-running on an unchanged dataset stats every file but reads none.
 */
export async function fingerprintInput(store: Store, path: string, workspace: string): Promise<InputFingerprint> {
  const absolute = resolve(path);
  const info = await stat(absolute);
  const recorded = displayPath(absolute, workspace);
  const counter = { hashed: 0 };
  if (info.isFile()) {
    const fingerprint = await fileSha256(store, absolute, info, counter);
    return { path: recorded, fingerprint, size: info.size, files: 1, hashedFiles: counter.hashed };
  }
  if (!info.isDirectory()) throw new Error(`${path} is neither a file nor a folder`);
  const files: { rel: string; abs: string; info: Stats }[] = [];
  await walk(absolute, '', files, new Set([`${info.dev}:${info.ino}`]));
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const hashes = new Array<string>(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      hashes[i] = await fileSha256(store, files[i]!.abs, files[i]!.info, counter);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  const digest = createHash('sha256');
  let size = 0;
  files.forEach((f, i) => {
    digest.update(`${f.rel}\0${f.info.size}\0${hashes[i]}\n`);
    size += f.info.size;
  });
  return { path: recorded, fingerprint: digest.digest('hex'), size, files: files.length, hashedFiles: counter.hashed };
}

async function walk(dir: string, rel: string, out: { rel: string; abs: string; info: Stats }[], seen: Set<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    const abs = join(dir, name);
    const childRel = rel ? `${rel}/${name}` : name;
    let info: Stats;
    try {
      info = await stat(abs);
    } catch {
      continue; // A dangling symlink is not data.
    }
    if (info.isFile()) out.push({ rel: childRel, abs, info });
    else if (info.isDirectory()) {
      const id = `${info.dev}:${info.ino}`;
      if (seen.has(id)) continue; // A symlink loop.
      seen.add(id);
      await walk(abs, childRel, out, seen);
    }
  }
}

async function fileSha256(store: Store, file: string, info: Stats, counter: { hashed: number }): Promise<string> {
  const cached = store.cachedFingerprint(file, info.size, info.mtimeMs);
  if (cached) return cached;
  counter.hashed++;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const sha = hash.digest('hex');
  const after = await stat(file);
  const unchanged = after.size === info.size && after.mtimeMs === info.mtimeMs;
  if (unchanged && Date.now() - after.mtimeMs > RACY_MS) store.cacheFingerprint(file, info.size, info.mtimeMs, sha);
  return sha;
}

/** Inputs inside the workspace are recorded relative to it, so the lineage survives moving the folder. */
export function displayPath(absolute: string, workspace: string): string {
  const rel = relative(resolve(workspace), absolute);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : absolute;
}
