import * as vscode from 'vscode';
import { MlflowClient, RemoteError } from '../../core/sync/client.ts';
import { addRemote, credentialsFrom, listRemotes, type Remote } from '../../core/sync/remotes.ts';
import { workspaceOf } from '../../core/workspace.ts';
import type { Container } from '../container.ts';

const ADD = '$(add) Add a remote…';
const secretKey = (url: string): string => `runboard.sync.token:${url}`;

/** A remote by quick pick (the one there is, without asking), or a new one added to `.runboard/remotes.json`. */
export async function pickRemote(container: Container, title: string): Promise<Remote | undefined> {
  const workspace = workspaceOf(container.dbPath);
  const remotes = listRemotes(workspace);
  if (remotes.length === 1) return remotes[0];
  const picked = await vscode.window.showQuickPick([...remotes.map((r) => ({ label: r.name, description: r.url, remote: r as Remote | undefined })), { label: ADD, description: '', remote: undefined }], { title });
  if (!picked) return undefined;
  if (picked.remote) return picked.remote;
  const url = await vscode.window.showInputBox({ title: 'MLflow tracking server URL', placeHolder: 'https://mlflow.example.org', ignoreFocusOut: true });
  if (!url) return undefined;
  const name = await vscode.window.showInputBox({ title: 'Name of the remote', value: 'team', ignoreFocusOut: true });
  if (!name) return undefined;
  return addRemote(workspace, name, url);
}

/**
 * Runs `work` with a client for the remote: credentials from MLflow's variables in the editor's
 * environment, else a token kept in SecretStorage. Refused credentials ask for a token once (kept
 * for next time) and run `work` again: what the first attempt sent is recorded, so nothing repeats.
 */
export async function withRemoteClient<T extends object>(container: Container, remote: Remote, work: (client: MlflowClient) => Promise<T>): Promise<T> {
  const secrets = container.context.secrets;
  const fromEnv = credentialsFrom(process.env);
  const stored = fromEnv ? undefined : await secrets.get(secretKey(remote.url));
  const client = (token?: string) => clientWith(remote, token);
  const refused = (result: T | RemoteError) => (result instanceof RemoteError ? result.failure === 'auth' : /refused the credentials \(401/.test((result as { failure?: string }).failure ?? ''));
  const attempt = async (token?: string): Promise<T | RemoteError> => {
    try {
      return await work(client(token));
    } catch (err) {
      if (err instanceof RemoteError) return err;
      throw err;
    }
  };
  const first = await attempt(stored);
  if (!refused(first) || fromEnv) return settle(first);
  const token = await vscode.window.showInputBox({ title: `Token for ${remote.name} (${remote.url})`, prompt: 'Kept in VS Code\'s secret storage, never in the workspace', password: true, ignoreFocusOut: true });
  if (!token) return settle(first);
  const second = await attempt(token);
  if (!refused(second)) await secrets.store(secretKey(remote.url), token);
  return settle(second);
}

/** A client with MLflow's variables from the editor's environment, else the given (stored) token. */
function clientWith(remote: Remote, token: string | undefined): MlflowClient {
  const fromEnv = credentialsFrom(process.env);
  return new MlflowClient({ url: remote.url, credentials: fromEnv ?? (token ? { token } : undefined) });
}

/** A client for a remote with the credentials a command would use, without asking for any. */
export async function storedClient(container: Container, remote: Remote): Promise<MlflowClient> {
  return clientWith(remote, await container.context.secrets.get(secretKey(remote.url)));
}

function settle<T>(result: T | RemoteError): T {
  if (result instanceof RemoteError) throw result;
  return result;
}
