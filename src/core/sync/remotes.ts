import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { ensureRealDir, writeFileNoFollow } from '../io/safePaths.ts';
import { dataDirOf } from '../workspace.ts';

/** A remote: a name and an MLflow tracking server's URL. Never a secret (see `credentialsFrom`). */
export interface Remote {
  name: string;
  url: string;
}

export type Credentials = { token: string } | { username: string; password: string } | undefined;

const NAME = /^[A-Za-z0-9][\w.-]{0,63}$/;

export const remotesFile = (workspace: string): string => join(dataDirOf(workspace), 'remotes.json');

/** A tracking server URL, without the trailing slash: sync state is keyed by it. */
export function normalizeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UserError(`"${text}" is not a URL: give the MLflow tracking server's address, such as http://mlflow.example.org:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`${text}: only http:// and https:// tracking servers can be synced with`);
  if (url.username || url.password) {
    throw new UserError(`${url.origin}: remotes are kept in .runboard/remotes.json, never with a password; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead`);
  }
  if (url.search || url.hash) throw new UserError(`${text}: a tracking server URL takes no query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function listRemotes(workspace: string): Remote[] {
  let text: string;
  try {
    text = readFileSync(remotesFile(workspace), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${remotesFile(workspace)} is not valid JSON (${(err as Error).message}); fix it or remove it`);
  }
  const remotes = (parsed as { remotes?: unknown } | null)?.remotes;
  if (!remotes || typeof remotes !== 'object' || Array.isArray(remotes)) throw new UserError(`${remotesFile(workspace)} must hold {"remotes": {"NAME": {"url": "…"}}}`);
  return Object.entries(remotes as Record<string, { url?: unknown }>).map(([name, entry]) => {
    if (typeof entry?.url !== 'string') throw new UserError(`${remotesFile(workspace)}: remote "${name}" has no "url"`);
    return { name, url: normalizeUrl(entry.url) };
  });
}

function saveRemotes(workspace: string, remotes: readonly Remote[]): void {
  ensureRealDir(dataDirOf(workspace), dataDirOf(workspace));
  const body = { remotes: Object.fromEntries(remotes.map((r) => [r.name, { url: r.url }])) };
  writeFileNoFollow(remotesFile(workspace), `${JSON.stringify(body, null, 2)}\n`);
}

export function addRemote(workspace: string, name: string, url: string): Remote {
  if (!NAME.test(name)) throw new UserError(`"${name}" cannot name a remote: use letters, digits, ".", "_" or "-" (up to 64)`);
  const remotes = listRemotes(workspace);
  if (remotes.some((r) => r.name === name)) throw new UserError(`a remote named "${name}" exists already; remove it first (runboard remote remove ${name})`);
  const remote = { name, url: normalizeUrl(url) };
  saveRemotes(workspace, [...remotes, remote]);
  return remote;
}

export function removeRemote(workspace: string, name: string): Remote {
  const remotes = listRemotes(workspace);
  const remote = remotes.find((r) => r.name === name);
  if (!remote) throw new UserError(`no remote named "${name}"${remotes.length ? ` (remotes: ${remotes.map((r) => r.name).join(', ')})` : ''}`);
  saveRemotes(workspace, remotes.filter((r) => r !== remote));
  return remote;
}

/** `--remote NAME|URL`: a configured remote by name, else a URL as given. */
export function resolveRemote(workspace: string, ref: string | undefined): Remote {
  const remotes = listRemotes(workspace);
  if (ref === undefined || ref === '') {
    if (remotes.length === 1) return remotes[0]!;
    throw new UserError(remotes.length ? `name the remote with --remote (${remotes.map((r) => r.name).join(', ')})` : 'no remote yet: add one with runboard remote add NAME URL, or pass --remote URL');
  }
  const named = remotes.find((r) => r.name === ref);
  if (named) return named;
  if (!/^https?:\/\//i.test(ref)) throw new UserError(`no remote named "${ref}"; add it with runboard remote add ${ref} URL, or pass a URL`);
  const url = normalizeUrl(ref);
  return { name: remotes.find((r) => r.url === url)?.name ?? url, url };
}

/** MLflow's own variables: a bearer token, else basic auth. */
export function credentialsFrom(env: NodeJS.ProcessEnv): Credentials {
  if (env.MLFLOW_TRACKING_TOKEN) return { token: env.MLFLOW_TRACKING_TOKEN };
  if (env.MLFLOW_TRACKING_USERNAME || env.MLFLOW_TRACKING_PASSWORD) {
    return { username: env.MLFLOW_TRACKING_USERNAME ?? '', password: env.MLFLOW_TRACKING_PASSWORD ?? '' };
  }
  return undefined;
}
